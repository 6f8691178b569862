"""RS256 keys beside Ed25519: the keyring holds one signer per algorithm, the manager keeps
both kinds through rotation, and a deployment from before RS256 gains an RSA key by itself."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from authgate.crypto import ed25519, rsa
from authgate.crypto.sealing import Sealer
from authgate.errors import InvalidToken, ServiceUnavailable
from authgate.tokens import jws
from authgate.tokens.keyring import Keyring
from authgate.tokens.models import SigningKey
from tests.unit.tokens.test_tokens_signing_keys import (
    PUBLISH_AFTER_RETIRE,
    SEAL_KEY,
    MemorySigningKeys,
    Node,
    _kid,
)

BOTH = frozenset({"RS256", "EdDSA"})


@pytest.fixture
def repository() -> MemorySigningKeys:
    return MemorySigningKeys()


def _id_token(node: Node) -> str:
    return jws.sign("JWT", {"sub": "user-1"}, node.keyring.signer_for("RS256"))


def _verify_id_token(node: Node, token: str) -> dict[str, Any]:
    return jws.verify(token, node.keyring.verifier, algorithms=BOTH)[1]


def _published(node: Node) -> dict[str, str]:
    return {jwk["kid"]: jwk["alg"] for jwk in node.keyring.jwks()["keys"]}


# --- The keyring ----------------------------------------------------------------------------


def test_an_empty_keyring_has_no_rs256_signer() -> None:
    with pytest.raises(ServiceUnavailable, match=r"no RS256 signing key.*keys rotate"):
        Keyring().signer_for("RS256")


def test_a_keyring_with_ed25519_only_still_signs_access_tokens() -> None:
    signer, jwk, _ = ed25519.generate()
    keyring = Keyring()
    keyring.load([signer], [jwk])
    assert keyring.signer() is signer is keyring.signer_for("EdDSA")
    with pytest.raises(ServiceUnavailable, match="RS256"):
        keyring.signer_for("RS256")


def test_signer_for_an_algorithm_authgate_never_signs_with_is_a_programming_error() -> None:
    signer, jwk, _ = rsa.generate()
    keyring = Keyring()
    keyring.load([signer], [jwk])
    for algorithm in ("ES256", "HS256", "none", "rs256"):
        with pytest.raises(ValueError, match="does not sign with"):
            keyring.signer_for(algorithm)
    with pytest.raises(ServiceUnavailable, match="EdDSA"):
        keyring.signer()


def test_a_keyring_holds_one_signer_per_algorithm_and_every_published_key() -> None:
    ed_signer, ed_jwk, _ = ed25519.generate()
    rsa_signer, rsa_jwk, _ = rsa.generate()
    old_rsa, old_rsa_jwk, _ = rsa.generate()
    keyring = Keyring()
    keyring.load([rsa_signer, ed_signer], [ed_jwk, rsa_jwk, old_rsa_jwk])
    assert keyring.signer() is ed_signer
    assert keyring.signer_for("RS256") is rsa_signer
    assert keyring.jwks() == {"keys": [ed_jwk, rsa_jwk, old_rsa_jwk]}
    for kid, algorithm in ((ed_signer.kid, "EdDSA"), (old_rsa.kid, "RS256")):
        verifier = keyring.verifier(kid)
        assert verifier is not None
        assert (verifier.kid, verifier.algorithm) == (kid, algorithm)
    with pytest.raises(ValueError, match="two active RS256"):
        keyring.load([rsa_signer, old_rsa], [rsa_jwk, old_rsa_jwk])
    # A refused load leaves the previous keys in place.
    assert keyring.signer_for("RS256") is rsa_signer


def test_a_jwk_of_a_kind_authgate_does_not_sign_with_is_refused() -> None:
    with pytest.raises(ValueError, match="key type 'EC'"):
        Keyring().load([], [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "kid": "k"}])


# --- The manager ----------------------------------------------------------------------------


async def test_a_deployment_with_only_ed25519_keys_gains_an_rs256_key(
    repository: MemorySigningKeys, clock: Any
) -> None:
    # A key stored the way authgate stored keys before RS256: Ed25519 only.
    signer, jwk, raw = ed25519.generate()
    sealed = Sealer(SEAL_KEY).seal(raw, f"authgate:signing-key:{signer.kid}".encode())
    created = clock() - timedelta(days=30)
    await repository.add(SigningKey(signer.kid, "EdDSA", jwk, sealed, created))
    node = Node(repository, clock, activation_delay=40)
    await node.keys.reload()
    old_token = node.issue()
    with pytest.raises(ServiceUnavailable, match="RS256"):
        node.keyring.signer_for("RS256")

    await node.keys.ensure_key()
    assert len(repository.keys) == 2
    (added,) = (key for key in repository.keys.values() if key.kid != signer.kid)
    assert (added.algorithm, added.retired_at, added.created_at) == ("RS256", None, clock())
    assert repository.keys[signer.kid].retired_at is None
    # The Ed25519 key signs on, and its tokens verify; the RSA key signs ID tokens at once
    # (the only RS256 key, as in a new deployment) and is published.
    assert node.keyring.signer().kid == signer.kid
    assert _kid(node.issue()) == signer.kid
    assert node.access.verify(old_token).subject == "user-1"
    assert node.keyring.signer_for("RS256").kid == added.kid
    assert _published(node) == {signer.kid: "EdDSA", added.kid: "RS256"}
    assert _verify_id_token(node, _id_token(node)) == {"sub": "user-1"}
    # Nothing more on the next start.
    await node.keys.ensure_key()
    assert len(repository.keys) == 2


async def test_rotation_publishes_both_kinds_and_old_rs256_tokens_live_until_expiry(
    repository: MemorySigningKeys, clock: Any
) -> None:
    node = Node(repository, clock)
    await node.keys.ensure_key()
    old_id_token = _id_token(node)
    old = _published(node)
    clock.advance(60)
    rotated = await node.keys.rotate()
    assert set(rotated) == {"EdDSA", "RS256"}
    assert _published(node) == {**old, rotated["EdDSA"]: "EdDSA", rotated["RS256"]: "RS256"}
    new_id_token = _id_token(node)
    assert _kid(new_id_token) == rotated["RS256"]
    assert _verify_id_token(node, old_id_token) == {"sub": "user-1"}

    clock.advance(PUBLISH_AFTER_RETIRE)
    await node.keys.reload()
    assert _verify_id_token(node, old_id_token) == {"sub": "user-1"}
    clock.advance(1)
    await node.keys.reload()
    assert _published(node) == {rotated["EdDSA"]: "EdDSA", rotated["RS256"]: "RS256"}
    with pytest.raises(InvalidToken, match="not signed by a key of this issuer"):
        _verify_id_token(node, old_id_token)
    assert _verify_id_token(node, new_id_token) == {"sub": "user-1"}


async def test_each_algorithm_waits_out_the_activation_delay(
    repository: MemorySigningKeys, clock: Any
) -> None:
    delay = 40
    node = Node(repository, clock, activation_delay=delay)
    await node.keys.ensure_key()
    first = {alg: node.keyring.signer_for(alg).kid for alg in ("EdDSA", "RS256")}
    clock.advance(100)
    second = await node.keys.rotate()
    # Published at once, signing only after the delay: for both algorithms alike.
    assert set(second.values()) | set(first.values()) == set(_published(node))
    clock.advance(delay - 1)
    await node.keys.reload()
    assert {alg: node.keyring.signer_for(alg).kid for alg in first} == first
    assert _kid(_id_token(node)) == first["RS256"]
    clock.advance(1)
    await node.keys.reload()
    assert {alg: node.keyring.signer_for(alg).kid for alg in first} == second
    assert _kid(_id_token(node)) == second["RS256"]


async def test_a_key_of_an_algorithm_this_version_does_not_know_is_ignored(
    repository: MemorySigningKeys, clock: Any
) -> None:
    node = Node(repository, clock)
    await node.keys.ensure_key()
    # As a newer version might store one during a rolling upgrade.
    future = SigningKey("future-kid", "ES256", {"kty": "EC", "kid": "future-kid"}, b"x", clock())
    await repository.add(future)
    await node.keys.reload()
    assert "future-kid" not in _published(node)
    assert node.keyring.verifier("future-kid") is None
    assert "future-kid" in repository.keys
    await node.keys.ensure_key()
    assert len(repository.keys) == 3
