"""Keyed hashes (HMAC-SHA256) of high-entropy secrets we generate.

Refresh tokens, client secrets, invite and reset tokens have 256 bits of entropy, so a slow
hash adds nothing; a keyed hash means a stolen database alone cannot even confirm a guess.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


class KeyedHasher:
    """HMAC-SHA256 under one derived key; the digest is base64url without padding."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("keyed-hash key must be at least 32 bytes")
        self._key = key

    def digest(self, secret: str) -> str:
        """The stored form of ``secret``."""
        mac = hmac.digest(self._key, secret.encode("utf-8"), hashlib.sha256)
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")

    def matches(self, secret: str, stored: str) -> bool:
        """Constant-time comparison of ``secret`` against a stored digest."""
        return hmac.compare_digest(self.digest(secret), stored)
