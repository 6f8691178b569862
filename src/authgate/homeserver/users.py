"""Which (instance, user) pairs a home server already knows, so it provisions each once.

The verifier claims a pair with :meth:`KnownUsers.add` before it calls the provisioning hook,
and gives the claim back with :meth:`KnownUsers.discard` when the hook fails, so that the next
request tries again. A store shared by several processes (a table with a unique key, say)
makes the hook run once across all of them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Protocol

DEFAULT_MAX_USERS = 100_000


class KnownUsers(Protocol):
    """Remembers the (instance, user) pairs that were provisioned."""

    def add(self, instance_id: str, user_id: str) -> bool:
        """Claim the pair; True only for the first claim (the user is new)."""
        ...

    def discard(self, instance_id: str, user_id: str) -> None:
        """Forget the pair (its provisioning failed)."""
        ...


class AsyncKnownUsers(Protocol):
    """The asynchronous form of :class:`KnownUsers` (a database the ASGI server awaits)."""

    def add(self, instance_id: str, user_id: str) -> Awaitable[bool]:
        """Claim the pair; True only for the first claim (the user is new)."""
        ...

    def discard(self, instance_id: str, user_id: str) -> Awaitable[None]:
        """Forget the pair (its provisioning failed)."""
        ...


class InMemoryKnownUsers:
    """Pairs seen by this process, the ``max_entries`` most recent, safe across threads.

    A pair forgotten to make room is provisioned again when it comes back, and so is every
    pair after a restart: a hook should treat an existing user as done. Use a store backed by
    the home server's own user table to provision strictly once.
    """

    def __init__(self, max_entries: int = DEFAULT_MAX_USERS) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, pair: object) -> bool:
        with self._lock:
            return pair in self._seen

    def add(self, instance_id: str, user_id: str) -> bool:
        """Claim the pair; True only for the first claim (the user is new)."""
        pair = (instance_id, user_id)
        with self._lock:
            if pair in self._seen:
                self._seen.move_to_end(pair)
                return False
            self._seen[pair] = None
            if len(self._seen) > self._max:
                self._seen.popitem(last=False)
            return True

    def discard(self, instance_id: str, user_id: str) -> None:
        """Forget the pair (its provisioning failed)."""
        with self._lock:
            self._seen.pop((instance_id, user_id), None)
