"""Ed25519 signing keys as JWKs (RFC 8037 §2) with RFC 7638 thumbprints as key ids."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)


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


@dataclass(frozen=True, slots=True)
class Ed25519Signer:
    """A private key with its key id; signs bytes."""

    kid: str
    private_key: Ed25519PrivateKey

    def sign(self, data: bytes) -> bytes:
        """A 64-byte Ed25519 signature."""
        return self.private_key.sign(data)


@dataclass(frozen=True, slots=True)
class Ed25519Verifier:
    """A public key with its key id; verifies signatures."""

    kid: str
    public_key: Ed25519PublicKey

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True only for a valid signature."""
        try:
            self.public_key.verify(signature, data)
        except InvalidSignature:
            return False
        return True


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    """The RFC 8037 OKP JWK of a public key, with ``kid`` (thumbprint), ``use`` and ``alg``."""
    x = b64url_encode(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": x,
        "kid": thumbprint(x),
        "use": "sig",
        "alg": "EdDSA",
    }


def thumbprint(x: str) -> str:
    """RFC 7638 §3 thumbprint of an Ed25519 OKP key (members in lexicographic order)."""
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    return b64url_encode(hashlib.sha256(canonical.encode("ascii")).digest())


def generate() -> tuple[Ed25519Signer, dict[str, str], bytes]:
    """A new key: its signer, its public JWK and the raw private bytes (to be sealed)."""
    private_key = Ed25519PrivateKey.generate()
    jwk = public_jwk(private_key.public_key())
    raw = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return Ed25519Signer(jwk["kid"], private_key), jwk, raw


def signer_from_raw(kid: str, raw: bytes) -> Ed25519Signer:
    """Rebuild a signer from raw private bytes."""
    return Ed25519Signer(kid, Ed25519PrivateKey.from_private_bytes(raw))


def verifier_from_jwk(jwk: dict[str, Any]) -> Ed25519Verifier:
    """Rebuild a verifier from a stored public JWK."""
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError("not an Ed25519 OKP key")
    public_key = Ed25519PublicKey.from_public_bytes(b64url_decode(str(jwk["x"])))
    return Ed25519Verifier(str(jwk["kid"]), public_key)
