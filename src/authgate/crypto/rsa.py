"""RSA signing keys for RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3) as JWKs.

OpenID Connect requires providers to sign ID tokens with RS256 (Core §15.1), so authgate
keeps an RSA key beside its Ed25519 key. Key ids are RFC 7638 thumbprints, as for Ed25519.
The private key travels as PKCS#8 DER, to be sealed before it is stored.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import (
    RSAPrivateKey,
    RSAPublicKey,
    RSAPublicNumbers,
    generate_private_key,
)

from authgate.crypto.signing import b64url_decode, b64url_encode

ALGORITHM = "RS256"
KEY_SIZE = 2048
MIN_KEY_SIZE = 2048
"""RFC 7518 §3.3: a key of 2048 bits or larger MUST be used with these algorithms."""
PUBLIC_EXPONENT = 65537
_PADDING = padding.PKCS1v15()
_HASH = hashes.SHA256()
# Private JWK members (RFC 7518 §6.3.2): a public key that carries them is refused.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth"})


@dataclass(frozen=True, slots=True)
class RsaSigner:
    """A private RSA key with its key id; signs bytes (a
    :class:`~authgate.crypto.signing.Signer`)."""

    algorithm: ClassVar[str] = ALGORITHM
    kid: str
    private_key: RSAPrivateKey

    def sign(self, data: bytes) -> bytes:
        """An RS256 signature, as long as the modulus (256 bytes for 2048 bits)."""
        return self.private_key.sign(data, _PADDING, _HASH)


@dataclass(frozen=True, slots=True)
class RsaVerifier:
    """A public RSA key with its key id; verifies RS256 signatures (a
    :class:`~authgate.crypto.signing.Verifier`)."""

    algorithm: ClassVar[str] = ALGORITHM
    kid: str
    public_key: RSAPublicKey

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True only for a valid RS256 signature."""
        # RFC 8017 §8.2.2 step 1: the signature is exactly as long as the modulus.
        if len(signature) != (self.public_key.key_size + 7) // 8:
            return False
        try:
            self.public_key.verify(signature, data, _PADDING, _HASH)
        except InvalidSignature:
            return False
        return True


def _uint(value: int) -> str:
    # RFC 7518 §6.3.1: the minimal big-endian octets, base64url.
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def public_jwk(public_key: RSAPublicKey) -> dict[str, str]:
    """The RSA JWK (RFC 7518 §6.3.1) of a public key, with ``kid``, ``use`` and ``alg``."""
    numbers = public_key.public_numbers()
    n, e = _uint(numbers.n), _uint(numbers.e)
    return {"kty": "RSA", "n": n, "e": e, "kid": thumbprint(n, e), "use": "sig", "alg": ALGORITHM}


def thumbprint(n: str, e: str) -> str:
    """RFC 7638 §3 thumbprint of an RSA key (members ``e``, ``kty``, ``n`` in that order)."""
    canonical = json.dumps({"e": e, "kty": "RSA", "n": n}, separators=(",", ":"))
    return b64url_encode(hashlib.sha256(canonical.encode("ascii")).digest())


def generate() -> tuple[RsaSigner, dict[str, str], bytes]:
    """A new 2048-bit key: its signer, its public JWK and the PKCS#8 DER private key (to seal)."""
    private_key = generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=KEY_SIZE)
    jwk = public_jwk(private_key.public_key())
    raw = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return RsaSigner(jwk["kid"], private_key), jwk, raw


def signer_from_raw(kid: str, raw: bytes) -> RsaSigner:
    """Rebuild a signer from PKCS#8 DER private key bytes; ValueError for anything else."""
    # The bytes come out of an authenticated seal: skipping OpenSSL's slow consistency check
    # is safe and keeps each key reload cheap.
    private_key = serialization.load_der_private_key(
        raw, password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(private_key, RSAPrivateKey):
        raise ValueError("not an RSA private key")
    if private_key.key_size < MIN_KEY_SIZE:
        raise ValueError(f"an RS256 key has at least {MIN_KEY_SIZE} bits")
    return RsaSigner(kid, private_key)


def verifier_from_jwk(jwk: dict[str, Any]) -> RsaVerifier:
    """Rebuild a verifier from a public RSA JWK; ValueError for anything else."""
    if jwk.get("kty") != "RSA":
        raise ValueError("not an RSA key")
    if jwk.get("alg", ALGORITHM) != ALGORITHM:
        raise ValueError(f"an RSA key of authgate is for {ALGORITHM} only")
    if _PRIVATE_MEMBERS & jwk.keys():
        raise ValueError("a public JWK holds no private key members")
    n, e = (_positive(jwk.get(name), name) for name in ("n", "e"))
    if n.bit_length() < MIN_KEY_SIZE:
        raise ValueError(f"an RS256 key has at least {MIN_KEY_SIZE} bits")
    # RSAPublicNumbers checks the rest: e odd, 3 <= e < n.
    public_key = RSAPublicNumbers(e, n).public_key()
    return RsaVerifier(str(jwk["kid"]), public_key)


def _positive(value: Any, name: str) -> int:
    if not isinstance(value, str):
        raise ValueError(f"the RSA key's {name} is missing")
    raw = b64url_decode(value)
    if not raw or raw[0] == 0:
        raise ValueError(f"the RSA key's {name} is not a minimal unsigned integer")
    return int.from_bytes(raw, "big")
