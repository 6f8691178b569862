"""Sign-in throttling that slows attackers without letting them lock a victim out.

Failures are counted per (account, IP) pair, per IP, and per account across all IPs with a
limit ten times higher. A victim signing in from their usual address is only blocked when an
attacker floods the account from many addresses, and then only for one window. Counting is by
the normalised email, known or not, so a throttled answer reveals nothing about accounts.
"""

from __future__ import annotations

import hashlib

from authgate.errors import TooManyRequests
from authgate.identity.ports import AttemptCounter

ACCOUNT_WIDE_FACTOR = 10


def _account_key(email: str) -> str:
    # Hashed so the counter store (Redis) never holds email addresses.
    return hashlib.sha256(email.encode("utf-8")).hexdigest()[:32]


class SignInThrottle:
    """Checks before a sign-in attempt, counts after a failure, clears after a success."""

    def __init__(
        self, counter: AttemptCounter, *, account_limit: int, ip_limit: int, window: int
    ) -> None:
        self._counter = counter
        self._account_limit = account_limit
        self._ip_limit = ip_limit
        self._window = window

    def _keys(self, email: str, ip: str | None) -> list[tuple[str, int]]:
        account = _account_key(email)
        keys = [(f"signin:acct:{account}", self._account_limit * ACCOUNT_WIDE_FACTOR)]
        if ip:
            keys.append((f"signin:pair:{account}:{ip}", self._account_limit))
            keys.append((f"signin:ip:{ip}", self._ip_limit))
        return keys

    async def check(self, email: str, ip: str | None) -> None:
        """Raise :class:`TooManyRequests` when any counter is at its limit."""
        for key, limit in self._keys(email, ip):
            if await self._counter.count(key) >= limit:
                raise TooManyRequests(
                    "too many failed sign-in attempts; wait and try again",
                    retry_after=self._window,
                )

    async def failed(self, email: str, ip: str | None) -> None:
        """Count one failure on every counter."""
        for key, _ in self._keys(email, ip):
            await self._counter.hit(key, self._window)

    async def succeeded(self, email: str, ip: str | None) -> None:
        """A success clears the pair counter (the IP and account-wide ones keep counting)."""
        if ip:
            await self._counter.reset(f"signin:pair:{_account_key(email)}:{ip}")
