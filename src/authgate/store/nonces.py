"""The signed-fetch replay cache in Redis, shared by every node that uses the same Redis.

Each (consumer key, timestamp, nonce) is one key set with ``SET … NX PX``: the first node to
record it wins, atomically, and Redis forgets it once its timestamp can no longer pass
the window. (Without Redis, :class:`authgate.store.signed_fetch.SqlNonceStore` does the
same in the database.)
"""

from __future__ import annotations

from datetime import datetime

from redis.asyncio import Redis

from authgate.clock import Clock
from authgate.store.attempts import redis_available

DEFAULT_PREFIX = "authgate:nonce:"


class RedisNonceStore:
    """:class:`authgate.signedfetch.ports.NonceStore` in Redis."""

    def __init__(self, redis: Redis, clock: Clock, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._redis = redis
        self._clock = clock
        self._prefix = prefix

    async def record(
        self, consumer_key: str, timestamp: int, nonce: str, expires_at: datetime
    ) -> bool:
        """Set the key unless it exists; False when another request recorded it first."""
        # Length-prefixed, so that no consumer key and nonce pair can collide with another.
        name = f"{self._prefix}{len(consumer_key)}:{consumer_key}:{timestamp}:{nonce}"
        ttl_ms = max(1, int((expires_at - self._clock()).total_seconds() * 1000))
        async with redis_available():
            created = await self._redis.set(name, b"1", nx=True, px=ttl_ms)
        return bool(created)
