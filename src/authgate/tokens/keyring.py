"""The signing keys in memory: the one that signs now, and every one still published."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from authgate.crypto.ed25519 import Ed25519Signer, Ed25519Verifier, verifier_from_jwk
from authgate.errors import ServiceUnavailable


class Keyring:
    """Replaced as a whole on reload, so readers never see a half-updated set."""

    def __init__(self) -> None:
        self._signer: Ed25519Signer | None = None
        self._verifiers: dict[str, Ed25519Verifier] = {}
        self._jwks: list[dict[str, Any]] = []

    def load(self, signer: Ed25519Signer | None, public_jwks: Iterable[dict[str, Any]]) -> None:
        """Install a new active signer and the published public keys."""
        jwks = [dict(jwk) for jwk in public_jwks]
        self._verifiers = {str(jwk["kid"]): verifier_from_jwk(jwk) for jwk in jwks}
        self._jwks = jwks
        self._signer = signer

    def signer(self) -> Ed25519Signer:
        """The key that signs new tokens."""
        if self._signer is None:
            raise ServiceUnavailable("no signing key is loaded; run `authgate keys rotate`")
        return self._signer

    def verifier(self, kid: str) -> Ed25519Verifier | None:
        """A published key by id."""
        return self._verifiers.get(kid)

    def jwks(self) -> dict[str, Any]:
        """The JWK Set document (RFC 7517 §5)."""
        return {"keys": list(self._jwks)}
