"""Functions with a user's OAuth connection, against a real provider (npm oidc-provider) and
a real API on 127.0.0.1 that introspects every bearer token at the provider: the call uses
the user's token, refreshes it before expiry and after a 401 (once, however many calls and
nodes race), and answers consent required when the provider revoked the grant. Tokens and
the client secret never show up in a response, a log line or the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.egress.upstreams import Upstream
from tests.http.conftest import POSTGRES_SECRET_KEY, Authgate, running
from tests.peers.connections import (
    CLIENT_ID,
    CLIENT_SECRET,
    CREDENTIAL,
    REDIRECT_URI,
    CheckingUpstream,
    Tenant,
    checking,
    tenant,
)
from tests.peers.oauth_provider import OAuthProvider, start_provider

EGRESS = {"egress_allowed_hosts": ("127.0.0.1",)}
TTL = 300
"""The provider's access token lifetime; authgate refreshes within 60 s of the end."""
CONCURRENT_CALLS = 12


@pytest_asyncio.fixture
async def provider() -> AsyncIterator[OAuthProvider]:
    async with start_provider(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=REDIRECT_URI,
        access_token_ttl=TTL,
    ) as running_provider:
        yield running_provider


@pytest_asyncio.fixture
async def upstream() -> AsyncIterator[Upstream]:
    server = await Upstream().start()
    yield server
    await server.close()


@pytest_asyncio.fixture
async def ag(tmp_path: Path) -> AsyncIterator[Authgate]:
    async with running(tmp_path, **EGRESS) as instance:
        yield instance


@pytest_asyncio.fixture
async def api(upstream: Upstream, provider: OAuthProvider) -> CheckingUpstream:
    return checking(upstream, provider)


@pytest_asyncio.fixture
async def connected(ag: Authgate, provider: OAuthProvider, upstream: Upstream) -> Tenant:
    acme = await tenant(ag, provider)
    await acme.publish(upstream)
    await acme.connect(acme.owner)
    return acme


async def test_a_call_sends_the_users_access_token_which_the_api_accepts(
    connected: Tenant, api: CheckingUpstream, provider: OAuthProvider
) -> None:
    response = await connected.call()

    assert response.status_code == 200, response.text
    assert response.json()["records"] == [{"id": "order-1"}]
    [token] = api.tokens
    assert (await provider.introspect(token))["active"] is True
    assert token not in response.text
    assert await provider.grants("refresh_token") == 0


async def test_an_expiring_access_token_is_refreshed_before_the_call(
    connected: Tenant, api: CheckingUpstream, provider: OAuthProvider
) -> None:
    assert (await connected.call()).status_code == 200
    connected.ag.clock.advance(TTL - 30)

    response = await connected.call()

    assert response.status_code == 200, response.text
    assert await provider.grants("refresh_token") == 1
    first, second = api.tokens
    assert first != second
    assert (await provider.introspect(second))["active"] is True
    [connection] = await connected.connections(connected.owner)
    assert connection["status"] == "active"
    # The new token is good for a while: the next call does not refresh again.
    assert (await connected.call()).status_code == 200
    assert await provider.grants("refresh_token") == 1
    assert api.tokens[2] == second


async def test_a_401_from_the_api_refreshes_once_and_retries(
    connected: Tenant, api: CheckingUpstream, provider: OAuthProvider
) -> None:
    assert (await connected.call()).status_code == 200
    api.refuse.add(api.tokens[0])

    response = await connected.call()

    assert response.status_code == 200, response.text
    assert await provider.grants("refresh_token") == 1
    assert len(api.tokens) == 3
    assert api.tokens[1] == api.tokens[0]
    assert api.tokens[2] != api.tokens[1]


async def test_an_api_that_keeps_refusing_gets_one_refresh_per_call(
    connected: Tenant, upstream: Upstream, provider: OAuthProvider
) -> None:
    seen: list[str] = []

    async def refuse_all(request: Any, reply: Any) -> None:
        seen.append(request.header("authorization") or "")
        await reply.send(401, [])

    upstream.routes["/orders"] = refuse_all

    response = await connected.call()

    assert response.status_code == 401, response.text
    assert await provider.grants("refresh_token") == 1
    assert len(seen) == 2


async def test_a_revoked_grant_marks_the_connection_needs_consent(
    connected: Tenant, api: CheckingUpstream, provider: OAuthProvider
) -> None:
    assert (await connected.call()).status_code == 200
    assert await provider.revoke_grants() == 1

    refused = await connected.call()

    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert error["code"] == "consent_required"
    assert error["details"]["authorize"] == f"/v1/connections/{CREDENTIAL}/authorize"
    assert f"/v1/connections/{CREDENTIAL}/authorize" in error["message"]
    assert (await provider.errors()).get("invalid_grant") == 1
    [connection] = await connected.connections(connected.owner)
    assert connection["status"] == "needs_consent"
    # Without a refresh attempt: the call answers consent required at once.
    again = await connected.call()
    assert again.json()["error"]["code"] == "consent_required"
    assert (await provider.errors()).get("invalid_grant") == 1
    # Consenting again makes the connection usable.
    await connected.connect(connected.owner)
    assert (await connected.call()).status_code == 200
    assert [c["status"] for c in await connected.connections(connected.owner)] == ["active"]


async def test_an_expired_connection_whose_grant_was_revoked_needs_consent(
    connected: Tenant, api: CheckingUpstream, provider: OAuthProvider
) -> None:
    await provider.revoke_grants()
    connected.ag.clock.advance(TTL)

    refused = await connected.call()

    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "consent_required"
    assert api.tokens == []


async def test_without_a_connection_the_call_names_the_authorize_path(
    ag: Authgate, provider: OAuthProvider, upstream: Upstream, api: CheckingUpstream
) -> None:
    acme = await tenant(ag, provider)
    await acme.publish(upstream)
    scoped = await tenant(ag, provider, solution="crm")
    await scoped.publish(upstream)

    org_wide = await acme.call()
    solution_scoped = await scoped.call()

    assert org_wide.status_code == 403
    assert org_wide.json()["error"]["details"]["authorize"] == (
        f"/v1/connections/{CREDENTIAL}/authorize"
    )
    assert solution_scoped.status_code == 403
    path = solution_scoped.json()["error"]["details"]["authorize"]
    assert path == f"/v1/connections/{CREDENTIAL}/authorize?solution=crm"
    # The path it names is the one that works.
    assert (await scoped.ag.client.get(path, headers=scoped.owner)).status_code == 200
    assert api.tokens == []


async def test_a_forgotten_connection_needs_consent_again(
    connected: Tenant, api: CheckingUpstream
) -> None:
    deleted = await connected.ag.client.delete(
        f"/v1/connections/{CREDENTIAL}", headers=connected.owner
    )
    assert deleted.status_code == 204

    response = await connected.call()

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "consent_required"


async def test_a_provider_that_is_down_is_an_upstream_error_not_a_lost_consent(
    tmp_path: Path, upstream: Upstream
) -> None:
    async with (
        start_provider(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=REDIRECT_URI
        ) as short_lived,
        running(tmp_path, **EGRESS) as instance,
    ):
        acme = await tenant(instance, short_lived)
        await acme.publish(upstream)
        await acme.connect(acme.owner)
    # The provider has stopped; authgate runs again on the same data.
    async with running(tmp_path, **EGRESS) as instance:
        acme.ag = instance
        instance.clock.advance(TTL)

        response = await acme.call()

        assert response.status_code == 502, response.text
        assert response.json()["error"]["code"] == "upstream_unreachable"
        assert [c["status"] for c in await acme.connections(acme.owner)] == ["active"]


async def test_many_concurrent_calls_refresh_once(
    connected: Tenant, api: CheckingUpstream, provider: OAuthProvider
) -> None:
    connected.ag.clock.advance(TTL)

    responses = await asyncio.gather(*(connected.call() for _ in range(CONCURRENT_CALLS)))

    assert [r.status_code for r in responses] == [200] * CONCURRENT_CALLS
    assert await provider.grants("refresh_token") == 1
    assert await provider.errors() == {}
    assert len(set(api.tokens)) == 1


@pytest.mark.postgres
async def test_two_nodes_on_one_database_refresh_once(
    tmp_path: Path,
    migrated_postgres: str,
    provider: OAuthProvider,
    upstream: Upstream,
    api: CheckingUpstream,
) -> None:
    shared = {"database_url": migrated_postgres, "secret_key": POSTGRES_SECRET_KEY, **EGRESS}
    async with (
        running(tmp_path / "a", **shared) as a,
        running(tmp_path / "b", **shared) as b,
    ):
        acme = await tenant(a, provider)
        await acme.publish(upstream)
        await acme.connect(acme.owner)
        a.clock.advance(TTL)
        b.clock.advance(TTL)

        responses = await asyncio.gather(
            *(acme.call(ag=node) for node in (a, b) * (CONCURRENT_CALLS // 2))
        )

        assert [r.status_code for r in responses] == [200] * CONCURRENT_CALLS
        assert await provider.grants("refresh_token") == 1
        assert await provider.errors() == {}
        assert len(set(api.tokens)) == 1
        # Either node reads what the other stored.
        assert (await acme.call(ag=b)).status_code == 200
        assert len(set(api.tokens)) == 1


def database_bytes(ag: Authgate) -> bytes:
    files = sorted(ag.data_dir.glob("authgate.db*"))
    assert files, "no SQLite files in the data directory"
    return b"".join(path.read_bytes() for path in files)


async def test_tokens_and_the_client_secret_never_leak(
    connected: Tenant,
    api: CheckingUpstream,
    provider: OAuthProvider,
    capfd: pytest.CaptureFixture[str],
) -> None:
    assert (await connected.call()).status_code == 200
    connected.ag.clock.advance(TTL)
    assert (await connected.call()).status_code == 200
    api.refuse.add(api.tokens[-1])
    assert (await connected.call()).status_code == 200
    await connected.connections(connected.owner)
    await connected.ag.client.get(
        f"/v1/orgs/{connected.slug}/credentials/{CREDENTIAL}", headers=connected.owner
    )
    await provider.revoke_grants()
    connected.ag.clock.advance(TTL)
    assert (await connected.call()).status_code == 403

    issued = await provider.issued()
    assert len(issued) >= 6  # a code, and three access and three refresh tokens at least
    canaries = [CLIENT_SECRET, *issued]
    logs = capfd.readouterr()
    log_text = logs.out + logs.err
    assert "request" in log_text  # the access log was captured
    stored = database_bytes(connected.ag)
    for response in connected.ag.responses:
        text = response.text + str(response.headers)
        for canary in canaries:
            assert canary not in text, response.request.url
    for canary in canaries:
        assert canary not in log_text
        assert canary.encode() not in stored
