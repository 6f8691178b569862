"""A small bounded connection pool for the drivers without a pool that fits.

asyncmy's and aioodbc's pools have no hook for a new connection (authgate must switch
MySQL's multi-statement mode off on each), and aiosqlite has no pool at all. This one holds
at most ``max_size`` connections, reuses idle ones for ``idle_seconds``, opens new ones
through ``connect``, and closes a connection instead of reusing it when the lease was
marked ``discard`` (after a timeout, a lost connection, or rows left unread).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Generic, TypeVar

C = TypeVar("C")


@dataclass(slots=True)
class Lease(Generic[C]):
    """A connection lent for one call; set ``discard`` to close it afterwards."""

    connection: C
    discard: bool = False


class PoolClosed(RuntimeError):
    """The pool was closed (its credential changed, or the server is stopping)."""


class ConnectionPool(Generic[C]):
    """At most ``max_size`` connections of one target."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[C]],
        close: Callable[[C], Awaitable[None]],
        *,
        max_size: int,
        idle_seconds: float = 300.0,
    ) -> None:
        self._connect = connect
        self._close = close
        self._slots = asyncio.Semaphore(max_size)
        self._idle: deque[tuple[C, float]] = deque()
        self._idle_seconds = idle_seconds
        self._in_use = 0
        self._closed = False
        self._drained = asyncio.Event()
        self._drained.set()

    @asynccontextmanager
    async def lease(self, wait_seconds: float) -> AsyncIterator[Lease[C]]:
        """A connection for the length of the ``async with`` block.

        Raises ``TimeoutError`` when no connection is free within ``wait_seconds``.
        """
        if self._closed:
            raise PoolClosed("the pool is closed")
        async with asyncio.timeout(wait_seconds):
            await self._slots.acquire()
        try:
            self._in_use += 1
            self._drained.clear()
            lease = Lease(await self._take())
            try:
                yield lease
            except BaseException:
                lease.discard = True
                raise
            finally:
                await self._give_back(lease)
        finally:
            self._in_use -= 1
            if self._in_use == 0:
                self._drained.set()
            self._slots.release()

    async def _take(self) -> C:
        now = time.monotonic()
        while self._idle:
            connection, since = self._idle.pop()
            if now - since < self._idle_seconds:
                return connection
            await self._quietly_close(connection)
        return await self._connect()

    async def _give_back(self, lease: Lease[C]) -> None:
        if lease.discard or self._closed:
            await self._quietly_close(lease.connection)
        else:
            self._idle.append((lease.connection, time.monotonic()))

    async def _quietly_close(self, connection: C) -> None:
        # A connection being thrown away may already be broken; closing it must not fail
        # the call (which has its answer) or the shutdown.
        with suppress(Exception):
            await self._close(connection)

    async def close(self) -> None:
        """Close idle connections now and the others when their calls end."""
        self._closed = True
        await self._drained.wait()
        while self._idle:
            connection, _ = self._idle.popleft()
            await self._quietly_close(connection)
