"""Identifiers and high-entropy secrets from the operating system's CSPRNG."""

from __future__ import annotations

import secrets
import uuid


def new_id() -> str:
    """A random identifier for a stored record (UUID4, canonical text)."""
    return str(uuid.uuid4())


def new_secret(nbytes: int = 32) -> str:
    """A URL-safe secret with ``nbytes`` of entropy (refresh tokens, invite links, codes)."""
    return secrets.token_urlsafe(nbytes)
