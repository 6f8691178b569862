"""Signing-key rotation: the new key signs, retired keys verify until pruned, keys stay sealed."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from authgate.crypto import ed25519, rsa
from authgate.crypto.sealing import Sealer, SealError
from authgate.errors import ConfigurationError, InvalidToken, ServiceUnavailable
from authgate.tokens.access import AccessTokens
from authgate.tokens.jws import UnknownSigningKey
from authgate.tokens.keyring import Keyring
from authgate.tokens.models import SigningKey
from authgate.tokens.signing_keys import SigningKeyManager

TOKEN_TTL = 86_400  # longer than the publication window, so expiry never explains a failure
PUBLISH_AFTER_RETIRE = 1_200
SEAL_KEY = bytes(range(32))


class MemorySigningKeys:
    """The :class:`SigningKeyRepository` contract, in memory."""

    def __init__(self) -> None:
        self.keys: dict[str, SigningKey] = {}
        self.reads = 0

    async def add(self, key: SigningKey) -> None:
        assert key.kid not in self.keys
        self.keys[key.kid] = key

    async def list(self) -> list[SigningKey]:
        self.reads += 1
        return sorted(self.keys.values(), key=lambda key: key.created_at, reverse=True)

    async def retire(self, kid: str, at: datetime) -> None:
        self.keys[kid] = replace(self.keys[kid], retired_at=at)

    async def delete(self, kid: str) -> None:
        self.keys.pop(kid, None)


class Node:
    """One authgate node: its keyring, key manager and access-token service."""

    def __init__(
        self,
        repository: MemorySigningKeys,
        clock: Any,
        seal_key: bytes = SEAL_KEY,
        *,
        activation_delay: int = 0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keyring = Keyring()
        self.keys = SigningKeyManager(
            repository,
            Sealer(seal_key),
            self.keyring,
            clock,
            publish_after_retire=PUBLISH_AFTER_RETIRE,
            activation_delay=activation_delay,
            monotonic=monotonic,
        )
        self.reloads = 0
        self.min_interval = 3600.0

        async def on_unknown_key() -> bool:
            reloaded = await self.keys.reload_if_stale(min_interval=self.min_interval)
            self.reloads += reloaded
            return reloaded

        self.access = AccessTokens(
            issuer="https://id.example.com",
            audience="authgate",
            ttl=TOKEN_TTL,
            keyring=self.keyring,
            clock=clock,
            on_unknown_key=on_unknown_key,
        )

    def issue(self) -> str:
        return self.access.issue(
            subject="user-1",
            org_id="org-1",
            roles=("MEMBER",),
            client_id="authgate-device",
            scope="openid",
            session_id="session-1",
        )


def _kid(token: str) -> str:
    header = token.split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"])


@pytest.fixture
def repository() -> MemorySigningKeys:
    return MemorySigningKeys()


@pytest.fixture
def node(repository: MemorySigningKeys, clock: Any) -> Node:
    return Node(repository, clock)


def test_an_empty_keyring_cannot_sign() -> None:
    keyring = Keyring()
    with pytest.raises(ServiceUnavailable, match="keys rotate"):
        keyring.signer()
    assert keyring.jwks() == {"keys": []}
    assert keyring.verifier("anything") is None


async def test_ensure_key_creates_one_key_per_algorithm_once(
    node: Node, repository: MemorySigningKeys
) -> None:
    await node.keys.ensure_key()
    await node.keys.ensure_key()
    assert len(repository.keys) == 2
    stored = {key.algorithm: key for key in repository.keys.values()}
    assert set(stored) == {"EdDSA", "RS256"}
    assert all(key.retired_at is None for key in stored.values())
    assert node.keyring.signer().kid == stored["EdDSA"].kid
    assert node.keyring.signer_for("EdDSA") is node.keyring.signer()
    assert node.keyring.signer_for("RS256").kid == stored["RS256"].kid
    published = {jwk["kid"]: jwk["alg"] for jwk in node.keyring.jwks()["keys"]}
    assert published == {key.kid: algorithm for algorithm, key in stored.items()}
    assert all("d" not in key.public_jwk for key in stored.values())


@pytest.mark.parametrize(("module", "algorithm"), [(ed25519, "EdDSA"), (rsa, "RS256")])
async def test_the_stored_private_key_is_sealed(
    node: Node,
    repository: MemorySigningKeys,
    monkeypatch: pytest.MonkeyPatch,
    module: Any,
    algorithm: str,
) -> None:
    generated: list[bytes] = []
    real_generate = module.generate

    def spy() -> Any:
        signer, jwk, raw = real_generate()
        generated.append(raw)
        return signer, jwk, raw

    monkeypatch.setattr(module, "generate", spy)
    kid = (await node.keys.rotate())[algorithm]
    (raw,) = generated
    stored = repository.keys[kid]
    assert stored.algorithm == algorithm
    assert raw not in stored.private_key_sealed
    assert raw[len(raw) // 2 :][:32] not in stored.private_key_sealed
    # version, nonce, the private key (32 bytes for Ed25519, PKCS#8 DER for RSA) and the GCM
    # tag: nothing else is stored.
    assert len(stored.private_key_sealed) == 1 + 12 + len(raw) + 16
    # The associated data is part of the stored format: changing it would strand every key.
    sealer = Sealer(SEAL_KEY)
    assert sealer.open(stored.private_key_sealed, b"authgate:signing-key:" + kid.encode()) == raw
    with pytest.raises(SealError):
        sealer.open(stored.private_key_sealed, b"authgate:signing-key:another-kid")


async def test_rotation_lifecycle(node: Node, repository: MemorySigningKeys, clock: Any) -> None:
    await node.keys.ensure_key()
    old_kid = node.keyring.signer().kid
    old_token = node.issue()
    assert _kid(old_token) == old_kid

    old_rsa = node.keyring.signer_for("RS256").kid

    clock.advance(60)
    rotated_at = clock()
    rotated = await node.keys.rotate()
    new_kid, new_rsa = rotated["EdDSA"], rotated["RS256"]
    assert new_kid != old_kid
    assert new_rsa != old_rsa
    assert repository.keys[old_kid].retired_at == rotated_at
    assert repository.keys[old_rsa].retired_at == rotated_at
    assert repository.keys[new_kid].retired_at is None
    assert repository.keys[new_rsa].retired_at is None

    # The new keys sign; old and new keys are published and verify.
    new_token = node.issue()
    assert _kid(new_token) == new_kid
    assert node.keyring.signer_for("RS256").kid == new_rsa
    assert node.access.verify(new_token).subject == "user-1"
    assert node.access.verify(old_token).subject == "user-1"
    assert {jwk["kid"] for jwk in node.keyring.jwks()["keys"]} == {
        old_kid,
        new_kid,
        old_rsa,
        new_rsa,
    }

    # Still published at the very end of the window, across reloads.
    clock.advance(PUBLISH_AFTER_RETIRE)
    await node.keys.reload()
    assert old_kid in repository.keys
    assert node.access.verify(old_token).subject == "user-1"

    # Pruned just after it: gone from the store and the JWKS, and its tokens fail.
    clock.advance(1)
    await node.keys.reload()
    assert old_kid not in repository.keys
    assert old_rsa not in repository.keys
    assert {jwk["kid"] for jwk in node.keyring.jwks()["keys"]} == {new_kid, new_rsa}
    with pytest.raises(InvalidToken, match="not signed by a key of this issuer"):
        node.access.verify(old_token)
    assert node.access.verify(new_token).subject == "user-1"
    assert node.keyring.signer().kid == new_kid


async def test_repeated_rotation_keeps_exactly_one_active_key(
    node: Node, repository: MemorySigningKeys, clock: Any
) -> None:
    rotations = []
    for _ in range(4):
        clock.advance(1)
        rotations.append(await node.keys.rotate())
    kids = {kid for rotated in rotations for kid in rotated.values()}
    assert len(kids) == 8
    active = {key.kid for key in repository.keys.values() if key.retired_at is None}
    assert active == set(rotations[-1].values())
    assert node.keyring.signer().kid == rotations[-1]["EdDSA"]
    assert node.keyring.signer_for("RS256").kid == rotations[-1]["RS256"]
    assert {jwk["kid"] for jwk in node.keyring.jwks()["keys"]} == kids


async def test_a_swapped_sealed_key_does_not_open(
    node: Node, repository: MemorySigningKeys, clock: Any
) -> None:
    first = (await node.keys.rotate())["EdDSA"]
    clock.advance(1)
    second = (await node.keys.rotate())["EdDSA"]
    a, b = repository.keys[first], repository.keys[second]
    # Swap the sealed private halves between the two rows.
    repository.keys[first] = replace(a, private_key_sealed=b.private_key_sealed)
    repository.keys[second] = replace(b, private_key_sealed=a.private_key_sealed)
    with pytest.raises(ConfigurationError, match="cannot be opened"):
        await node.keys.reload()


async def test_a_row_renamed_to_another_kid_does_not_open(
    node: Node, repository: MemorySigningKeys
) -> None:
    kid = (await node.keys.rotate())["EdDSA"]
    stored = repository.keys.pop(kid)
    repository.keys["attacker-chosen-kid"] = replace(stored, kid="attacker-chosen-kid")
    with pytest.raises(ConfigurationError, match="cannot be opened"):
        await node.keys.reload()


async def test_another_deployments_root_key_does_not_open_the_keys(
    node: Node, repository: MemorySigningKeys, clock: Any
) -> None:
    await node.keys.rotate()
    stranger = Node(repository, clock, seal_key=bytes(range(1, 33)))
    with pytest.raises(ConfigurationError, match="AUTHGATE_SECRET_KEY"):
        await stranger.keys.reload()


async def test_a_key_rotated_on_another_node_is_picked_up_by_a_rate_limited_reload(
    repository: MemorySigningKeys, clock: Any
) -> None:
    a, b = Node(repository, clock), Node(repository, clock)
    await a.keys.ensure_key()
    await b.keys.ensure_key()
    clock.advance(1)
    await b.keys.rotate()
    token = b.issue()
    with pytest.raises(UnknownSigningKey):
        a.access.verify(token)

    # A reloaded within the interval: no reload, the token is refused for now.
    with pytest.raises(InvalidToken):
        await a.access.verify_current(token)
    assert a.reloads == 0

    # Once the interval has passed, one reload picks the new key up.
    a.min_interval = 0
    assert (await a.access.verify_current(token)).subject == "user-1"
    assert a.reloads == 1
    assert a.keyring.signer().kid == _kid(token)
    assert (await a.access.verify_current(token)).subject == "user-1"
    assert a.reloads == 1


async def test_verify_current_reloads_for_an_unknown_kid_only(
    repository: MemorySigningKeys, clock: Any, forge: Any, claims: dict[str, Any]
) -> None:
    a, b = Node(repository, clock), Node(repository, clock)
    await b.keys.ensure_key()
    token = b.issue()
    calls: list[None] = []

    async def reload() -> bool:
        calls.append(None)
        await a.keys.reload()
        return True

    a.access = AccessTokens(
        issuer="https://id.example.com",
        audience="authgate",
        ttl=TOKEN_TTL,
        keyring=a.keyring,
        clock=clock,
        on_unknown_key=reload,
    )
    # A kid this node has not loaded yet: one reload, then it verifies.
    assert (await a.access.verify_current(token)).subject == "user-1"
    assert len(calls) == 1
    # Known kid: no reload.
    assert (await a.access.verify_current(token)).subject == "user-1"
    assert len(calls) == 1
    # Invalid for reasons other than the kid: no reload.
    header, payload, signature = token.split(".")
    # Replace the signature's last two characters with ones that surely differ.
    tail = "AA" if not signature.endswith("AA") else "BA"
    for bad in (f"{header}.{payload}.{signature[:-2]}{tail}", "garbage", token + ".x"):
        with pytest.raises(InvalidToken):
            await a.access.verify_current(bad)
    assert len(calls) == 1
    # A kid nobody has: one reload attempt, then refused.
    with pytest.raises(InvalidToken):
        await a.access.verify_current(forge(None, claims))
    assert len(calls) == 2


async def test_a_flood_of_unknown_kids_costs_at_most_one_reload_per_interval(
    repository: MemorySigningKeys, clock: Any, forge: Any, new_key: Any, claims: dict[str, Any]
) -> None:
    await Node(repository, clock).keys.ensure_key()
    node = Node(repository, clock)  # a node that has not loaded its keys yet
    reads = repository.reads
    for _ in range(20):
        with pytest.raises(InvalidToken):
            await node.access.verify_current(forge(None, claims, signer=new_key()))
    assert node.reloads == 1
    assert repository.reads == reads + 1


async def test_without_a_reload_hook_an_unknown_kid_is_refused(
    access: AccessTokens, forge: Any, new_key: Any, claims: dict[str, Any]
) -> None:
    with pytest.raises(UnknownSigningKey):
        await access.verify_current(forge(None, claims, signer=new_key()))


async def test_on_unknown_key_returning_false_does_not_retry(
    keyring: Keyring, clock: Any, forge: Any, new_key: Any, claims: dict[str, Any]
) -> None:
    calls: list[None] = []

    async def refuse() -> bool:
        calls.append(None)
        return False

    hook: Callable[[], Awaitable[bool]] = refuse
    access = AccessTokens(
        issuer="https://id.example.com",
        audience="authgate",
        ttl=900,
        keyring=keyring,
        clock=clock,
        on_unknown_key=hook,
    )
    with pytest.raises(UnknownSigningKey):
        await access.verify_current(forge(None, claims, signer=new_key()))
    assert len(calls) == 1


async def test_a_rotated_key_is_published_before_it_signs(
    repository: MemorySigningKeys, clock: Any
) -> None:
    delay = 40
    node = Node(repository, clock, activation_delay=delay)
    await node.keys.ensure_key()
    # A new deployment signs with its only key at once.
    first = node.keyring.signer().kid
    first_token = node.issue()

    clock.advance(100)
    retired_at = clock()
    second = (await node.keys.rotate())["EdDSA"]
    # Published at once, so every node can verify it before anyone signs with it...
    assert {first, second} <= {jwk["kid"] for jwk in node.keyring.jwks()["keys"]}
    # ...but the superseded key signs until the activation delay has passed.
    assert node.keyring.signer().kid == first
    clock.advance(delay - 1)
    await node.keys.reload()
    assert _kid(node.issue()) == first
    clock.advance(1)
    await node.keys.reload()
    assert _kid(node.issue()) == second

    # The superseded key signed until retirement + delay, so it stays published that much
    # longer than the publication window.
    last_old_token_time = retired_at + timedelta(seconds=delay)
    clock.now = last_old_token_time + timedelta(seconds=PUBLISH_AFTER_RETIRE)
    await node.keys.reload()
    assert node.access.verify(first_token).subject == "user-1"
    clock.advance(1)
    await node.keys.reload()
    assert {jwk["kid"] for jwk in node.keyring.jwks()["keys"] if jwk["alg"] == "EdDSA"} == {second}
    with pytest.raises(InvalidToken):
        node.access.verify(first_token)


async def test_reload_if_stale_honours_the_interval(
    repository: MemorySigningKeys, clock: Any
) -> None:
    ticks = [1000.0]
    node = Node(repository, clock, monotonic=lambda: ticks[0])
    assert await node.keys.reload_if_stale(min_interval=5) is True
    reads = repository.reads
    ticks[0] += 4.5
    assert await node.keys.reload_if_stale(min_interval=5) is False
    assert repository.reads == reads
    ticks[0] += 0.5
    assert await node.keys.reload_if_stale(min_interval=5) is True
    assert repository.reads == reads + 1
    # An explicit reload also restarts the interval.
    ticks[0] += 10
    await node.keys.reload()
    assert await node.keys.reload_if_stale(min_interval=5) is False
