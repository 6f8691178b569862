"""Credentials never travel back to the device, even when an upstream echoes them.

An upstream may answer with what it received — a debugging endpoint that echoes headers,
an error page that quotes the request. The function's output would then carry the bearer
token or API key that authgate added, and the device would read a secret it must never
see (SECURITY.md, promise 1). :class:`RecordingResolver` remembers every value resolved for
one call; :func:`redact` replaces each of them wherever it appears in what the caller gets.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from authgate.functions.ports import CredentialResolver, ResolvedCredential

REDACTED = "[redacted]"
MIN_REDACTED_LENGTH = 6
"""Shorter values are not searched for: they would mangle ordinary data, and no credential
worth the name is that short."""


class RecordingResolver:
    """A :class:`CredentialResolver` that remembers every value it handed out."""

    __slots__ = ("_inner", "values")

    def __init__(self, inner: CredentialResolver) -> None:
        self._inner = inner
        self.values: set[str] = set()

    async def resolve(self, name: str) -> ResolvedCredential:
        """The credential, remembered."""
        return self._seen(await self._inner.resolve(name))

    async def refresh(self, name: str, rejected: ResolvedCredential) -> ResolvedCredential:
        """The refreshed credential, remembered."""
        return self._seen(await self._inner.refresh(name, rejected))

    def _seen(self, credential: ResolvedCredential) -> ResolvedCredential:
        value = credential.value
        if len(value) >= MIN_REDACTED_LENGTH:
            self.values.add(value)
            # ``user:password`` and similar: each part is a secret of its own.
            self.values.update(p for p in value.split(":") if len(p) >= MIN_REDACTED_LENGTH)
        return credential


def redact(data: Any, secrets: Collection[str]) -> Any:
    """``data`` with every occurrence of a secret in its strings (and keys) replaced."""
    if not secrets:
        return data
    ordered = sorted(secrets, key=len, reverse=True)  # a longer secret may contain a shorter

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            for secret in ordered:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, list):
            return [clean(item) for item in value]
        if isinstance(value, dict):
            return {clean(key): clean(item) for key, item in value.items()}
        return value

    return clean(data)
