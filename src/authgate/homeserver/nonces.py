"""Nonce replay protection for home servers (RFC 5849 §3.3).

A nonce is recorded only after the request's signature verified, so that unsigned traffic
cannot fill the store or burn a client's nonces. It is kept until its timestamp leaves the
window; after that the timestamp check refuses a replay on its own. A nonce is unique per
consumer key (stricter than the RFC's per-timestamp rule: a client never needs to reuse one).

Three stores: :class:`InMemoryNonceStore` (one process, bounded, thread-safe),
:class:`RedisNonceStore` (shared by every process and node) and :class:`AsyncRedisNonceStore`
(the same for an ``redis.asyncio`` client, under ASGI). The Redis stores take the client the
application built; they never import ``redis`` themselves.
"""

from __future__ import annotations

import hashlib
import heapq
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from authgate.homeserver.errors import NonceStoreFull

DEFAULT_MAX_NONCES = 200_000
DEFAULT_REDIS_PREFIX = "authgate:homeserver:nonce:"


class NonceStore(Protocol):
    """Records nonces; says whether one was new."""

    def record(self, consumer_key: str, nonce: str, ttl: int) -> bool:
        """Remember ``nonce`` of ``consumer_key`` for ``ttl`` seconds; False if already held."""
        ...


class AsyncNonceStore(Protocol):
    """The asynchronous form of :class:`NonceStore`, for ASGI servers."""

    def record(self, consumer_key: str, nonce: str, ttl: int) -> Awaitable[bool]:
        """Remember ``nonce`` of ``consumer_key`` for ``ttl`` seconds; False if already held."""
        ...


class InMemoryNonceStore:
    """Nonces of one process, expiring, at most ``max_entries`` at once, safe across threads.

    When every slot holds an unexpired nonce a new one is refused with 503
    ``nonce_store_full`` rather than forgetting one early, which would let it be replayed.
    Several processes or nodes need a shared store (:class:`RedisNonceStore`).
    """

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_NONCES,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self._clock = clock
        self._expiry: dict[tuple[str, str], float] = {}
        self._queue: list[tuple[float, tuple[str, str]]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            self._prune(self._clock())
            return len(self._expiry)

    def _prune(self, now: float) -> None:
        queue, expiry = self._queue, self._expiry
        while queue and queue[0][0] <= now:
            expires, key = heapq.heappop(queue)
            if expiry.get(key) == expires:
                del expiry[key]

    def record(self, consumer_key: str, nonce: str, ttl: int) -> bool:
        """Remember ``nonce`` of ``consumer_key`` for ``ttl`` seconds; False if already held."""
        key = (consumer_key, nonce)
        with self._lock:
            now = self._clock()
            self._prune(now)
            if key in self._expiry:
                return False
            if len(self._expiry) >= self._max:
                raise NonceStoreFull(
                    f"the nonce store holds its maximum of {self._max} recent nonces; retry "
                    "shortly, or configure a larger or shared nonce store"
                )
            expires = now + max(ttl, 1)
            self._expiry[key] = expires
            heapq.heappush(self._queue, (expires, key))
            return True


class SyncRedis(Protocol):
    """The one method of a ``redis.Redis`` client the store uses."""

    def set(self, name: str, value: bytes, *, ex: int, nx: bool) -> Any:
        """``SET name value EX ex NX``; truthy when the key was set."""
        ...


class AsyncRedis(Protocol):
    """The one method of a ``redis.asyncio.Redis`` client the store uses."""

    def set(self, name: str, value: bytes, *, ex: int, nx: bool) -> Awaitable[Any]:
        """``SET name value EX ex NX``; truthy when the key was set."""
        ...


def redis_key(prefix: str, consumer_key: str, nonce: str) -> str:
    """A fixed-length key: the SHA-256 of the consumer key and nonce, after ``prefix``."""
    digest = hashlib.sha256(f"{consumer_key}\x00{nonce}".encode()).hexdigest()
    return prefix + digest


class RedisNonceStore:
    """Nonces in Redis, shared by every process: one atomic ``SET … NX EX`` per request."""

    def __init__(self, client: SyncRedis, *, prefix: str = DEFAULT_REDIS_PREFIX) -> None:
        self._client = client
        self._prefix = prefix

    def record(self, consumer_key: str, nonce: str, ttl: int) -> bool:
        """Remember ``nonce`` of ``consumer_key`` for ``ttl`` seconds; False if already held."""
        key = redis_key(self._prefix, consumer_key, nonce)
        return bool(self._client.set(key, b"1", ex=max(ttl, 1), nx=True))


class AsyncRedisNonceStore:
    """:class:`RedisNonceStore` for a ``redis.asyncio`` client."""

    def __init__(self, client: AsyncRedis, *, prefix: str = DEFAULT_REDIS_PREFIX) -> None:
        self._client = client
        self._prefix = prefix

    async def record(self, consumer_key: str, nonce: str, ttl: int) -> bool:
        """Remember ``nonce`` of ``consumer_key`` for ``ttl`` seconds; False if already held."""
        key = redis_key(self._prefix, consumer_key, nonce)
        return bool(await self._client.set(key, b"1", ex=max(ttl, 1), nx=True))
