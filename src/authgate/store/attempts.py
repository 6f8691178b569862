"""Fixed-window event counters for throttling: in-process, or in Redis across nodes."""

from __future__ import annotations

import heapq
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from authgate.clock import Clock, utc_now
from authgate.errors import ServiceUnavailable

DEFAULT_MAX_KEYS = 100_000
DEFAULT_PREFIX = "authgate:attempts:"


@asynccontextmanager
async def redis_available() -> AsyncIterator[None]:
    """Redis connection and time-out errors become :class:`ServiceUnavailable` (503)."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise ServiceUnavailable(
            "Redis cannot be reached; check that it is running and reachable"
        ) from exc


def _check_window(window: int) -> None:
    if window <= 0:
        raise ValueError("the window must be a positive number of seconds")


@dataclass(slots=True)
class _Window:
    count: int
    ends_at: float


class MemoryAttemptCounter:
    """:class:`authgate.identity.ports.AttemptCounter` for a single node.

    Memory stays bounded: windows that ended are pruned on every hit, and beyond
    ``max_keys`` live keys the windows closest to their end are dropped first.
    """

    def __init__(self, clock: Clock = utc_now, *, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._windows: dict[str, _Window] = {}
        # (ends_at, key), soonest first; entries whose window was replaced are skipped.
        self._ends: list[tuple[float, str]] = []

    def __len__(self) -> int:
        """How many keys are held (including windows that ended but were not pruned yet)."""
        return len(self._windows)

    async def hit(self, key: str, window: int) -> int:
        """Count one event; the window starts at the key's first event and lasts ``window`` s."""
        _check_window(window)
        now = self._clock().timestamp()
        self._prune(now)
        entry = self._windows.get(key)
        if entry is None or entry.ends_at <= now:
            while len(self._windows) >= self._max_keys:
                self._drop_soonest()
            entry = _Window(0, now + window)
            self._windows[key] = entry
            heapq.heappush(self._ends, (entry.ends_at, key))
            self._compact()
        entry.count += 1
        return entry.count

    async def count(self, key: str) -> int:
        """How many events the key's current window holds (0 once it ended)."""
        entry = self._windows.get(key)
        if entry is None or entry.ends_at <= self._clock().timestamp():
            return 0
        return entry.count

    async def reset(self, key: str) -> None:
        """Forget the key."""
        self._windows.pop(key, None)

    def _prune(self, now: float) -> None:
        while self._ends and self._ends[0][0] <= now:
            self._drop_soonest()

    def _drop_soonest(self) -> None:
        ends_at, key = heapq.heappop(self._ends)
        entry = self._windows.get(key)
        if entry is not None and entry.ends_at == ends_at:
            del self._windows[key]

    def _compact(self) -> None:
        # Resets leave stale heap entries behind; rebuild before they outnumber the keys.
        if len(self._ends) > 2 * len(self._windows) + 64:
            self._ends = [(entry.ends_at, key) for key, entry in self._windows.items()]
            heapq.heapify(self._ends)


class RedisAttemptCounter:
    """:class:`authgate.identity.ports.AttemptCounter` shared by every node through Redis.

    ``INCR`` and ``EXPIRE … NX`` run in one MULTI/EXEC: the first event of a window sets its
    end, and no node can observe a counter without one.
    """

    def __init__(self, redis: Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._redis = redis
        self._prefix = prefix

    async def hit(self, key: str, window: int) -> int:
        """Count one event; return how many happened in the key's current window."""
        _check_window(window)
        name = self._prefix + key
        async with self._available(), self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def count(self, key: str) -> int:
        """How many events the key's current window holds."""
        async with self._available():
            value = await self._redis.get(self._prefix + key)
        return 0 if value is None else int(value)

    async def reset(self, key: str) -> None:
        """Forget the key."""
        async with self._available():
            await self._redis.delete(self._prefix + key)

    def _available(self) -> AbstractAsyncContextManager[None]:
        return redis_available()


if TYPE_CHECKING:
    from authgate.identity.ports import AttemptCounter

    def _implements_the_port(
        memory: MemoryAttemptCounter, shared: RedisAttemptCounter
    ) -> tuple[AttemptCounter, AttemptCounter]:
        # mypy proves here that both counters satisfy the port.
        return memory, shared
