"""Shared keys and clock for the signed-fetch tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
CONSUMER_KEY = "container-7"
CONSUMER_SECRET = "s3cr3t/with+reserved&chars~é"


@pytest.fixture(scope="session")
def rsa_private_key() -> RSAPrivateKey:
    """One 2048-bit key for the whole session: generating keys is slow."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def rsa_private_pem(rsa_private_key: RSAPrivateKey) -> str:
    """The key in PKCS#8 PEM, as other libraries take it."""
    return rsa_private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
