"""Per-user OAuth connections: consent with PKCE S256, single-use state, refresh once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import update

from authgate.crypto.envelope import Envelope, EnvelopeError, KeyEncryptionKey
from authgate.identity.deps import Actor
from authgate.identity.models import Role
from authgate.store import open_store
from authgate.store.tables import vault_connections
from authgate.vault.connections import ConnectionService, pkce_challenge
from authgate.vault.errors import ConsentRequired, InvalidAuthorizationState, TokenRequestRejected
from authgate.vault.models import (
    ConnectionStatus,
    Credential,
    CredentialKind,
    CredentialSpec,
    OAuthClientConfig,
    SecretFields,
    TokenGrant,
    UsableCredential,
)
from authgate.vault.resolver import CallResolver
from authgate.vault.rotation import KekRotation
from authgate.vault.service import VaultService

from .conftest import KEK, World, open_world

CLIENT_SECRET = "canary-oauth-client-secret-1d9"
REDIRECT = "https://id.example.com/v1/connections/crm.oauth/callback"
CONFIG = OAuthClientConfig(
    authorize_url="https://login.example.com/authorize?tenant=t1",
    token_url="https://login.example.com/token",
    client_id="crm-client",
    scopes=("openid", "offline_access"),
    pkce=True,
    extra_authorize_params=(("prompt", "consent"),),
)


@dataclass
class FakeProvider:
    """An in-memory token endpoint: the real one is reached through egress."""

    issued: int = 0
    refreshes: int = 0
    exchanges: list[dict[str, object]] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    expires_in: int | None = 3600
    rotate_refresh_token: bool = True
    slow: int = 0

    def _grant(self) -> TokenGrant:
        self.issued += 1
        return TokenGrant(
            access_token=f"canary-access-{self.issued}",
            refresh_token=f"canary-refresh-{self.issued}" if self.rotate_refresh_token else None,
            expires_in=self.expires_in,
        )

    async def exchange_code(
        self,
        client: OAuthClientConfig,
        client_secret: str,
        *,
        code: str,
        redirect_uri: str,
        code_verifier: str | None,
    ) -> TokenGrant:
        assert client_secret == CLIENT_SECRET
        self.exchanges.append(
            {"code": code, "redirect_uri": redirect_uri, "verifier": code_verifier}
        )
        if code in self.refused:
            raise TokenRequestRejected("the provider refused the code")
        self.rotate_refresh_token, rotate = True, self.rotate_refresh_token
        grant = self._grant()
        self.rotate_refresh_token = rotate
        return grant

    async def refresh(
        self, client: OAuthClientConfig, client_secret: str, *, refresh_token: str
    ) -> TokenGrant:
        assert client_secret == CLIENT_SECRET
        self.refreshes += 1
        for _ in range(self.slow):
            await asyncio.sleep(0)
        if refresh_token in self.refused:
            raise TokenRequestRejected("invalid_grant")
        return self._grant()


@dataclass
class Setup:
    world: World
    provider: FakeProvider
    connections: ConnectionService
    vault: VaultService[UsableCredential]
    credential: Credential
    user: Actor
    sleeps: list[float]


async def _yield(seconds: float, record: list[float]) -> None:
    record.append(seconds)
    await asyncio.sleep(0)


def build(
    world: World, provider: FakeProvider, sleeps: list[float]
) -> tuple[ConnectionService, VaultService[UsableCredential]]:
    connections = ConnectionService(
        world.deps,
        world.store.vault,
        world.store.vault.connections,
        Envelope(KEK),
        provider,
        sleep=lambda seconds: _yield(seconds, sleeps),
    )
    vault = VaultService(
        world.deps, world.store.vault, Envelope(KEK), lambda c: c, connections=connections
    )
    return connections, vault


@pytest.fixture
async def setup(world: World) -> Setup:
    provider = FakeProvider()
    sleeps: list[float] = []
    connections, vault = build(world, provider, sleeps)
    spec = CredentialSpec(
        CredentialKind.OAUTH_CLIENT,
        SecretFields({"client_secret": CLIENT_SECRET}),
        allowed_hosts=("api.example.com",),
        oauth=CONFIG,
    )
    credential, _ = await vault.put("acme", "crm.oauth", spec, world.admin)
    return Setup(world, provider, connections, vault, credential, world.members[Role.USER], sleeps)


async def connect(s: Setup, code: str = "code-1") -> None:
    url = await s.connections.authorize_url(s.credential, str(s.user.user_id), REDIRECT)
    state = parse_qs(urlsplit(url).query)["state"][0]
    await s.connections.complete(state, code, str(s.user.user_id))


def resolver(s: Setup, actor: Actor | None = None) -> CallResolver[UsableCredential]:
    return s.vault.resolver(s.world.org.id, None, "list-orders", actor or s.user)


async def test_the_authorize_url_carries_state_and_an_s256_challenge(setup: Setup) -> None:
    url = await setup.connections.authorize_url(setup.credential, str(setup.user.user_id), REDIRECT)
    parts = urlsplit(url)
    query = parse_qs(parts.query)

    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://login.example.com/authorize"
    assert query["tenant"] == ["t1"]
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["crm-client"]
    assert query["redirect_uri"] == [REDIRECT]
    assert query["scope"] == ["openid offline_access"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["prompt"] == ["consent"]
    assert len(query["state"][0]) >= 43
    assert CLIENT_SECRET not in url


async def test_completing_exchanges_the_code_with_the_matching_verifier(setup: Setup) -> None:
    user_id = str(setup.user.user_id)
    url = await setup.connections.authorize_url(setup.credential, user_id, REDIRECT)
    query = parse_qs(urlsplit(url).query)

    connection = await setup.connections.complete(query["state"][0], "code-1", user_id)

    [exchange] = setup.provider.exchanges
    assert exchange["code"] == "code-1"
    assert exchange["redirect_uri"] == REDIRECT
    verifier = exchange["verifier"]
    assert isinstance(verifier, str)
    assert 43 <= len(verifier) <= 128
    assert pkce_challenge(verifier) == query["code_challenge"][0]
    assert verifier not in url
    assert connection.status is ConnectionStatus.ACTIVE
    found = await resolver(setup).resolve("crm.oauth")
    assert (found.send_as, found.value) == ("oauth", "canary-access-1")
    assert found.allowed_hosts == {"api.example.com"}
    audit = repr(await setup.world.store.audit.list(None, limit=1000))
    for secret in ("canary-access", "canary-refresh", CLIENT_SECRET, verifier):
        assert secret not in audit


@pytest.mark.parametrize("problem", ["reused", "expired", "other user", "unknown"])
async def test_a_state_is_single_use_fresh_and_bound_to_its_user(
    setup: Setup, problem: str
) -> None:
    user_id = str(setup.user.user_id)
    url = await setup.connections.authorize_url(setup.credential, user_id, REDIRECT)
    state = parse_qs(urlsplit(url).query)["state"][0]
    who = user_id
    if problem == "reused":
        await setup.connections.complete(state, "code-1", user_id)
    elif problem == "expired":
        setup.world.clock.advance(10 * 60 + 1)
    elif problem == "other user":
        who = str(setup.world.admin.user_id)
    else:
        state = state[:-2] + "xx"

    with pytest.raises(InvalidAuthorizationState, match="start again"):
        await setup.connections.complete(state, "code-2", who)
    assert [e["code"] for e in setup.provider.exchanges] == (
        ["code-1"] if problem == "reused" else []
    )


async def test_without_a_connection_the_user_is_asked_to_consent(setup: Setup) -> None:
    with pytest.raises(ConsentRequired, match=r"/v1/connections/crm\.oauth/authorize"):
        await resolver(setup).resolve("crm.oauth")
    anonymous = resolver(setup, Actor(None))
    with pytest.raises(ConsentRequired):
        await anonymous.resolve("crm.oauth")


async def test_the_token_is_refreshed_shortly_before_expiry(setup: Setup) -> None:
    setup.provider.rotate_refresh_token = False  # the provider keeps the refresh token
    await connect(setup)
    setup.world.clock.advance(3000)
    assert (await resolver(setup).resolve("crm.oauth")).value == "canary-access-1"
    assert setup.provider.refreshes == 0

    setup.world.clock.advance(560)  # 40 s before expiry
    assert (await resolver(setup).resolve("crm.oauth")).value == "canary-access-2"
    setup.world.clock.advance(3560)
    assert (await resolver(setup).resolve("crm.oauth")).value == "canary-access-3"
    assert setup.provider.refreshes == 2  # the kept refresh token worked twice


async def test_many_concurrent_calls_on_two_nodes_refresh_once(
    setup: Setup, tmp_path: Path
) -> None:
    await connect(setup)
    setup.world.clock.advance(3590)
    setup.provider.slow = 20
    # A second node: its own store (connection pool) and service on the same database.
    other_store = await open_store(str(setup.world.store.db.engine.url))
    async with open_world(other_store, Envelope(KEK), tmp_path / "outbox") as other:
        other.clock.now = setup.world.clock.now
        _, other_vault = build(other, setup.provider, setup.sleeps)
        resolvers = [
            (setup.vault if i % 2 else other_vault).resolver(
                setup.world.org.id, None, "f", setup.user
            )
            for i in range(12)
        ]
        values = await asyncio.gather(*(r.resolve("crm.oauth") for r in resolvers))

    assert setup.provider.refreshes == 1
    assert {v.value for v in values} == {"canary-access-2"}
    assert setup.sleeps  # the others waited for the one refresh


async def test_a_refused_refresh_marks_the_connection_needs_consent(setup: Setup) -> None:
    await connect(setup)
    setup.provider.refused.add("canary-refresh-1")
    setup.world.clock.advance(3590)

    with pytest.raises(ConsentRequired):
        await resolver(setup).resolve("crm.oauth")
    connection = await setup.world.store.vault.connections.get(
        setup.credential.id, str(setup.user.user_id)
    )
    assert connection is not None
    assert connection.status is ConnectionStatus.NEEDS_CONSENT
    with pytest.raises(ConsentRequired):
        await resolver(setup).resolve("crm.oauth")
    assert setup.provider.refreshes == 1  # not asked again

    await connect(setup, "code-2")  # consenting again makes it active
    assert (await resolver(setup).resolve("crm.oauth")).value == "canary-access-2"


async def test_a_401_refreshes_once_unless_another_call_already_did(setup: Setup) -> None:
    await connect(setup)
    first, second = resolver(setup), resolver(setup)
    a = await first.resolve("crm.oauth")
    b = await second.resolve("crm.oauth")

    fresh = await first.refresh("crm.oauth", a)
    assert fresh.value == "canary-access-2"
    again = await second.refresh("crm.oauth", b)
    assert again.value == "canary-access-2"
    assert setup.provider.refreshes == 1


async def test_tokens_moved_to_another_user_do_not_open(setup: Setup) -> None:
    await connect(setup)
    admin = setup.world.admin
    n = vault_connections
    async with setup.world.store.db.transaction() as conn:
        await conn.execute(update(n).values(user_id=admin.user_id))
    with pytest.raises(EnvelopeError):
        await resolver(setup, admin).resolve("crm.oauth")


async def test_kek_rotation_rewraps_connections_too(setup: Setup) -> None:
    await connect(setup)
    new = KeyEncryptionKey(bytes(range(50, 82)))
    rotation = KekRotation(setup.world.store.vault, Envelope(new, [KEK]))
    assert await rotation.pending() == 2  # the client secret's version and the connection
    assert await rotation.run() == 2
    assert await setup.world.store.vault.count_by_kek() == {new.kek_id: 2}
    connections = ConnectionService(
        setup.world.deps,
        setup.world.store.vault,
        setup.world.store.vault.connections,
        Envelope(new),
        setup.provider,
    )
    token = await connections.access_token(setup.credential, str(setup.user.user_id))
    assert token == "canary-access-1"
