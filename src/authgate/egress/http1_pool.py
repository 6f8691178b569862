"""The pool of HTTP/1.1 connections of the fast path: bounded, per origin, checked addresses.

Idle connections are kept per origin (scheme, host, port) and the most recently used is
taken first. At most ``max_connections`` connections are open or opening at once, over all
origins (the meaning ``httpcore`` gives the same setting); a request beyond that closes an
idle connection of another origin or waits for one to be released. At most
``max_idle_connections`` are kept idle, each for ``keepalive_expiry`` seconds: an expired one
is closed when its origin is next asked for, and every expired one at the first release after
each ``keepalive_expiry`` interval, so origins no longer contacted do not keep sockets open. A
connection that is closed, broken or sent anything while idle is dropped instead of reused.

A new connection goes only to an address :class:`DestinationGuard` checked for the host (it
resolves the name once); the checked addresses are tried in order. TLS verifies the
certificate and sends SNI for the host name, whatever address was dialled, and offers only
``http/1.1`` by ALPN.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import Callable

import certifi

from authgate.egress.errors import UpstreamUnreachable
from authgate.egress.http1 import Http1Connection
from authgate.egress.network import DestinationGuard

OriginKey = tuple[str, str, int]
"""Scheme, lower-case ASCII host and port of an origin."""

_SHOWN_ERROR_LENGTH = 200


def http1_tls_context(ssl_context: ssl.SSLContext | None) -> ssl.SSLContext:
    """``ssl_context``, or the default trust store (certifi), offering ALPN ``http/1.1``."""
    context = ssl_context
    if context is None:
        context = ssl.create_default_context(cafile=certifi.where())
    context.set_alpn_protocols(["http/1.1"])
    return context


class Http1Pool:
    """Bounded HTTP/1.1 connections to checked addresses, reused per origin."""

    def __init__(
        self,
        guard: DestinationGuard,
        *,
        ssl_context: ssl.SSLContext | None = None,
        local_address: str | None = None,
        max_connections: int = 100,
        max_idle_connections: int | None = None,
        keepalive_expiry: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self._guard = guard
        self._ssl_context = ssl_context
        self._tls: ssl.SSLContext | None = None
        self._local = (local_address, 0) if local_address else None
        self._max = max_connections
        self._max_idle = max_connections if max_idle_connections is None else max_idle_connections
        self._expiry = keepalive_expiry
        self._clock = clock
        self._idle: dict[OriginKey, list[Http1Connection]] = {}
        self._idle_count = 0
        self._open = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._closed = False
        self._next_sweep = clock() + keepalive_expiry

    @property
    def open_connections(self) -> int:
        """Connections open or opening, in use or idle."""
        return self._open

    @property
    def idle_connections(self) -> int:
        """Connections kept for reuse."""
        return self._idle_count

    def idle_for(self, key: OriginKey) -> tuple[Http1Connection, ...]:
        """The connections kept for an origin, the most recently used last."""
        return tuple(self._idle.get(key, ()))

    async def acquire(self, key: OriginKey) -> tuple[Http1Connection, bool]:
        """A connection to the origin, and whether it was reused rather than opened."""
        while True:
            if self._closed:
                raise RuntimeError("the egress client was closed")
            connection = self._take_idle(key)
            if connection is not None:
                return connection, True
            if self._open < self._max or self._evict_idle():
                break
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()  # pass the slot this waiter was given on
                raise
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        self._open += 1
        try:
            return await self._connect(key), False
        except BaseException:
            self._open -= 1
            self._wake_one()
            raise

    def release(self, connection: Http1Connection) -> None:
        """Hand a connection back after an exchange: kept if fit for reuse, else closed."""
        connection.end()
        if self._closed or not connection.reusable or self._idle_count >= self._max_idle:
            self.discard(connection)
            return
        now = self._clock()
        connection.idle_since = now
        self._idle.setdefault(connection.origin, []).append(connection)
        self._idle_count += 1
        if now >= self._next_sweep:
            self._sweep(now)
        self._wake_one()

    def discard(self, connection: Http1Connection) -> None:
        """Close a connection that was in use and free its place."""
        connection.end()
        connection.close()
        self._open -= 1
        self._wake_one()

    async def aclose(self) -> None:
        """Close every idle connection; those in use are closed when released."""
        self._closed = True
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
                self._open -= 1
        self._idle.clear()
        self._idle_count = 0
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _take_idle(self, key: OriginKey) -> Http1Connection | None:
        connections = self._idle.get(key)
        if not connections:
            return None
        oldest_kept = self._clock() - self._expiry
        while connections:
            connection = connections.pop()
            self._idle_count -= 1
            if connection.idle_since >= oldest_kept and connection.usable:
                return connection
            connection.close()
            self._open -= 1
            if connection.idle_since < oldest_kept:
                # The rest were released earlier still: they have expired too.
                self._close_all(connections)
        return None

    def _sweep(self, now: float) -> None:
        """Close every expired idle connection and forget origins with none left."""
        self._next_sweep = now + self._expiry
        oldest_kept = now - self._expiry
        for key, connections in list(self._idle.items()):
            expired = 0
            # Each list is in release order, so the expired ones come first.
            while expired < len(connections) and connections[expired].idle_since < oldest_kept:
                expired += 1
            if expired:
                self._close_all(connections[:expired])
                del connections[:expired]
            if not connections:
                del self._idle[key]

    def _evict_idle(self) -> bool:
        """Close the longest-idle connection of any origin to make room; whether one was."""
        oldest: list[Http1Connection] | None = None
        for connections in self._idle.values():
            if connections and (oldest is None or connections[0].idle_since < oldest[0].idle_since):
                oldest = connections
        if oldest is None:
            return False
        connection = oldest.pop(0)
        self._idle_count -= 1
        connection.close()
        self._open -= 1
        return True

    def _close_all(self, connections: list[Http1Connection]) -> None:
        for connection in connections:
            connection.close()
        self._open -= len(connections)
        self._idle_count -= len(connections)
        connections.clear()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _connect(self, key: OriginKey) -> Http1Connection:
        scheme, host, port = key
        addresses = await self._guard.addresses(host, port)
        tls = self._tls_context() if scheme == "https" else None
        loop = asyncio.get_running_loop()
        failure: OSError | None = None
        for address in addresses:
            try:
                _, connection = await loop.create_connection(
                    lambda: Http1Connection(key),
                    str(address),
                    port,
                    ssl=tls,
                    server_hostname=host if tls is not None else None,
                    local_addr=self._local,
                )
            except ssl.SSLError as exc:
                # The address answered; its certificate or TLS is wrong. No other address
                # of the host is tried, as for a refused name.
                failure = exc
                break
            except OSError as exc:
                failure = exc
                continue
            return connection
        assert failure is not None  # the guard never returns no address
        reason = (str(failure) or type(failure).__name__)[:_SHOWN_ERROR_LENGTH]
        raise UpstreamUnreachable(f"could not connect to {host} port {port}: {reason}")

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = http1_tls_context(self._ssl_context)
        return self._tls
