"""Reading an RSA-SHA1 consumer's public key, as containers publish it: PEM key or certificate."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey


class NotAnRsaKey(ValueError):
    """The PEM holds a public key of another kind (EC, Ed25519, DSA …)."""


def read_rsa_public_key(pem: str | bytes) -> RSAPublicKey:
    """The RSA public key of a PEM ``PUBLIC KEY`` or X.509 ``CERTIFICATE``.

    Raises ValueError when the text is neither, :class:`NotAnRsaKey` for another kind of key.
    """
    data = pem.strip().encode("ascii", "replace") if isinstance(pem, str) else pem.strip()
    key: object
    if data.startswith(b"-----BEGIN CERTIFICATE-----"):
        key = x509.load_pem_x509_certificate(data).public_key()
    else:
        key = serialization.load_pem_public_key(data)
    if not isinstance(key, RSAPublicKey):
        raise NotAnRsaKey("RSA-SHA1 needs an RSA public key; this PEM holds another kind of key")
    return key
