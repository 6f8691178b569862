"""Identifiers and high-entropy secrets from the operating system's CSPRNG."""

from __future__ import annotations

import base64
import itertools
import os
import secrets
import uuid


def new_id() -> str:
    """A random identifier for a stored record (UUID4, canonical text)."""
    return str(uuid.uuid4())


def new_secret(nbytes: int = 32) -> str:
    """A URL-safe secret with ``nbytes`` of entropy (refresh tokens, invite links, codes)."""
    return secrets.token_urlsafe(nbytes)


class UniqueIds:
    """Identifiers unique across processes without a system call each: a random 96-bit
    prefix per instance and a counter (for ``jti``, which must be unique, not secret)."""

    __slots__ = ("_counter", "_prefix")

    def __init__(self) -> None:
        self._prefix = base64.urlsafe_b64encode(os.urandom(12)).decode("ascii")
        self._counter = itertools.count()

    def next(self) -> str:
        """The next identifier."""
        return f"{self._prefix}{next(self._counter):x}"
