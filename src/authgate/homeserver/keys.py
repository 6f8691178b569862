"""The consumer credentials a home server verifies with: shared secrets and RSA public keys.

Most gateways sign with HMAC-SHA1 and the app's consumer secret; a container that signs with
RSA-SHA1 publishes its public key, often as an X.509 certificate. Both PEM forms are read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from authgate.signedfetch.keys import read_rsa_public_key
from authgate.signedfetch.signature import ConsumerCredential, RsaVerificationKey, SharedSecret
from authgate.signedfetch.verify import ConsumerLookup

ConsumerSource = Mapping[str, ConsumerCredential | str] | Callable[[str], ConsumerCredential | None]
"""Consumer keys and their credentials: a mapping (a ``str`` value is an HMAC consumer
secret) or a function giving a key's credential, or None when the key is unknown."""

__all__ = ["ConsumerSource", "consumer_lookup", "rsa_public_key", "shared_secret"]


def shared_secret(consumer_secret: str) -> SharedSecret:
    """The credential of an HMAC-SHA1 or HMAC-SHA256 consumer."""
    if not consumer_secret:
        raise ValueError("a consumer secret must not be empty")
    return SharedSecret(consumer_secret)


def rsa_public_key(pem: str | bytes) -> RsaVerificationKey:
    """The credential of an RSA-SHA1 consumer: a PEM public key or X.509 certificate."""
    key = read_rsa_public_key(pem)
    return RsaVerificationKey(key)


def consumer_lookup(consumers: ConsumerSource) -> ConsumerLookup:
    """A lookup function for :func:`authgate.signedfetch.verify.verify_request`."""
    if not isinstance(consumers, Mapping):
        return consumers
    table: dict[str, ConsumerCredential] = {
        key: shared_secret(value) if isinstance(value, str) else value
        for key, value in consumers.items()
    }
    if not table:
        raise ValueError("configure at least one consumer key")
    return table.get
