"""The credentials of one call: each resolved once, refreshed at most once after a 401.

FUNCTIONS.md: "a 401 on an OAuth credential refreshes the token once and retries". Values live
only in this object, for the length of the call.
"""

from __future__ import annotations

from collections.abc import Iterable

from authgate.functions.ports import CredentialResolver, ResolvedCredential


class CallCredentials:
    """Resolves credentials by name through the call's resolver, caching them for the call."""

    __slots__ = ("_refreshed", "_resolver", "_values")

    def __init__(self, resolver: CredentialResolver) -> None:
        self._resolver = resolver
        self._values: dict[str, ResolvedCredential] = {}
        self._refreshed: set[str] = set()

    async def resolve(self, names: Iterable[str]) -> dict[str, ResolvedCredential]:
        """The named credentials (each resolved from the vault at most once per call)."""
        found: dict[str, ResolvedCredential] = {}
        for name in names:
            if name not in self._values:
                self._values[name] = await self._resolver.resolve(name)
            found[name] = self._values[name]
        return found

    async def refresh_rejected(self, names: Iterable[str]) -> bool:
        """Refresh the refreshable ones among ``names`` not refreshed yet; whether any was."""
        refreshed = False
        for name in names:
            current = self._values.get(name)
            if current is None or not current.refreshable or name in self._refreshed:
                continue
            self._refreshed.add(name)
            self._values[name] = await self._resolver.refresh(name, current)
            refreshed = True
        return refreshed
