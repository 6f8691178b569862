"""The signing keys in memory: the ones that sign now, and every one still published.

One key signs per algorithm: Ed25519 (``EdDSA``) for access tokens, RSA (``RS256``) for the
ID tokens of relying parties that ask for it. Every published key of either kind verifies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from authgate.crypto import ed25519, rsa
from authgate.crypto.signing import Signer, Verifier
from authgate.errors import ServiceUnavailable

EDDSA = ed25519.ALGORITHM
RS256 = rsa.ALGORITHM
ALGORITHMS = frozenset({EDDSA, RS256})
"""The algorithms authgate signs with, each with its own key."""

# A stored JWK's key type selects how it is read.
_VERIFIER_FROM_JWK: dict[str, Callable[[dict[str, Any]], Verifier]] = {
    "OKP": ed25519.verifier_from_jwk,
    "RSA": rsa.verifier_from_jwk,
}


def verifier_from_jwk(jwk: dict[str, Any]) -> Verifier:
    """A verifier for a published JWK of any kind authgate signs with; ValueError otherwise."""
    read = _VERIFIER_FROM_JWK.get(str(jwk.get("kty")))
    if read is None:
        raise ValueError(f"a JWK of key type {jwk.get('kty')!r} is not one authgate signs with")
    return read(jwk)


class Keyring:
    """Replaced as a whole on reload, so readers never see a half-updated set."""

    def __init__(self) -> None:
        self._signer: Signer | None = None
        self._signers: dict[str, Signer] = {}
        self._verifiers: dict[str, Verifier] = {}
        self._jwks: list[dict[str, Any]] = []

    def load(self, signers: Iterable[Signer], public_jwks: Iterable[dict[str, Any]]) -> None:
        """Install the active signers (at most one per algorithm) and the published keys."""
        by_algorithm: dict[str, Signer] = {}
        for signer in signers:
            if signer.algorithm in by_algorithm:
                raise ValueError(f"two active {signer.algorithm} signing keys were given")
            by_algorithm[signer.algorithm] = signer
        jwks = [dict(jwk) for jwk in public_jwks]
        self._verifiers = {str(jwk["kid"]): verifier_from_jwk(jwk) for jwk in jwks}
        self._jwks = jwks
        self._signers = by_algorithm
        self._signer = by_algorithm.get(EDDSA)

    def signer(self) -> Signer:
        """The Ed25519 key that signs access tokens (the hot path: one attribute read)."""
        if self._signer is None:
            raise ServiceUnavailable(
                f"no {EDDSA} signing key is loaded; run `authgate keys rotate`"
            )
        return self._signer

    def signer_for(self, algorithm: str) -> Signer:
        """The key that signs with ``algorithm`` (``EdDSA`` or ``RS256``)."""
        signer = self._signers.get(algorithm)
        if signer is None:
            if algorithm not in ALGORITHMS:
                raise ValueError(f"authgate does not sign with {algorithm!r}")
            raise ServiceUnavailable(
                f"no {algorithm} signing key is loaded; run `authgate keys rotate`"
            )
        return signer

    def verifier(self, kid: str) -> Verifier | None:
        """A published key by id, of either kind."""
        return self._verifiers.get(kid)

    def jwks(self) -> dict[str, Any]:
        """The JWK Set document (RFC 7517 §5)."""
        return {"keys": list(self._jwks)}
