"""What every kind of token signing key offers, and the strict base64url that JOSE uses.

Ed25519 (``EdDSA``) signs access tokens; RSA (``RS256``) signs OpenID Connect ID tokens for
relying parties that know no other algorithm. Both kinds of key satisfy :class:`Signer` and
:class:`Verifier`, so the JWS code and the keyring treat them alike.
"""

from __future__ import annotations

import base64
from typing import Protocol


class Signer(Protocol):
    """A private key with its key id and JWS algorithm name; signs bytes."""

    @property
    def kid(self) -> str:
        """The key id (the RFC 7638 thumbprint of the public key)."""
        ...

    @property
    def algorithm(self) -> str:
        """The JWS ``alg`` this key signs with (RFC 7518 §3.1, RFC 8037 §3.1)."""
        ...

    def sign(self, data: bytes) -> bytes:
        """The signature of ``data``."""
        ...


class Verifier(Protocol):
    """A public key with its key id and JWS algorithm name; checks signatures."""

    @property
    def kid(self) -> str:
        """The key id (the RFC 7638 thumbprint of the public key)."""
        ...

    @property
    def algorithm(self) -> str:
        """The only JWS ``alg`` a signature by this key may claim."""
        ...

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True only for a valid signature of ``data``."""
        ...


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding; raises ValueError on anything else."""
    if "=" in text or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # Reject non-canonical encodings (trailing bits set), so one token has one spelling.
    if b64url_encode(raw) != text:
        raise ValueError("non-canonical base64url")
    return raw
