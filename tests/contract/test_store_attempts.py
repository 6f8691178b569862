"""Contract: the in-process and the Redis attempt counters."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from authgate.errors import ServiceUnavailable
from authgate.store import MemoryAttemptCounter, RedisAttemptCounter

from .records import NOW


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def test_memory_counts_within_a_fixed_window() -> None:
    clock = FakeClock()
    counter = MemoryAttemptCounter(clock)

    assert [await counter.hit("a", 60) for _ in range(3)] == [1, 2, 3]
    assert await counter.count("a") == 3
    assert await counter.count("b") == 0
    clock.advance(59)
    assert await counter.hit("a", 60) == 4
    clock.advance(1)
    # The window began with the first hit; it has ended, and a new one starts.
    assert await counter.count("a") == 0
    assert await counter.hit("a", 60) == 1


async def test_memory_reset_forgets_the_key() -> None:
    counter = MemoryAttemptCounter(FakeClock())
    await counter.hit("a", 60)
    await counter.hit("b", 60)

    await counter.reset("a")
    await counter.reset("never-seen")

    assert (await counter.count("a"), await counter.count("b")) == (0, 1)
    assert await counter.hit("a", 60) == 1


async def test_memory_prunes_ended_windows() -> None:
    clock = FakeClock()
    counter = MemoryAttemptCounter(clock)
    for number in range(1000):
        await counter.hit(f"ip-{number}", 10)
    await counter.hit("long", 3600)
    assert len(counter) == 1001

    clock.advance(10)
    await counter.hit("fresh", 10)

    assert len(counter) == 2
    assert await counter.count("long") == 1


async def test_memory_never_holds_more_than_max_keys() -> None:
    clock = FakeClock()
    counter = MemoryAttemptCounter(clock, max_keys=100)
    await counter.hit("soonest", 5)
    for number in range(150):
        await counter.hit(f"k{number}", 600)
        clock.advance(0.001)

    assert len(counter) == 100
    # The windows closest to their end went first.
    assert await counter.count("soonest") == 0
    assert await counter.count("k149") == 1


async def test_memory_stays_bounded_under_resets() -> None:
    counter = MemoryAttemptCounter(FakeClock())
    for _ in range(10_000):
        await counter.hit("victim", 600)
        await counter.reset("victim")

    assert len(counter) == 0
    assert len(counter._ends) < 200


@pytest.mark.parametrize("window", [0, -5])
async def test_a_window_must_be_positive(window: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        await MemoryAttemptCounter().hit("a", window)


@pytest_asyncio.fixture(loop_scope="session")
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    """A client; every key of the test lives under a unique prefix, deleted afterwards."""
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def prefix(redis_client: Redis) -> AsyncIterator[str]:
    """A unique key prefix for this test."""
    value = f"authgate-test:{secrets.token_hex(6)}:"
    yield value
    keys = [key async for key in redis_client.scan_iter(match=value + "*")]
    if keys:
        await redis_client.delete(*keys)


@pytest.mark.redis
async def test_redis_counts_and_resets(redis_client: Redis, prefix: str) -> None:
    counter = RedisAttemptCounter(redis_client, prefix=prefix)

    assert [await counter.hit("a", 60) for _ in range(3)] == [1, 2, 3]
    assert await counter.count("a") == 3
    assert await counter.count("b") == 0
    assert 0 < await redis_client.ttl(prefix + "a") <= 60

    await counter.reset("a")
    assert await counter.count("a") == 0
    assert await redis_client.exists(prefix + "a") == 0


@pytest.mark.redis
async def test_redis_window_is_fixed_by_the_first_hit(redis_client: Redis, prefix: str) -> None:
    counter = RedisAttemptCounter(redis_client, prefix=prefix)
    await counter.hit("a", 600)
    # Pretend most of the window has passed: later hits must not push its end out.
    await redis_client.expire(prefix + "a", 5)

    assert await counter.hit("a", 600) == 2
    assert 0 < await redis_client.ttl(prefix + "a") <= 5


@pytest.mark.redis
async def test_redis_counts_every_hit_of_every_node(redis_url: str, prefix: str) -> None:
    nodes = [Redis.from_url(redis_url) for _ in range(2)]
    try:
        counters = [RedisAttemptCounter(node, prefix=prefix) for node in nodes]
        results = await asyncio.gather(*(counters[n % 2].hit("ip", 60) for n in range(40)))
        assert sorted(results) == list(range(1, 41))
        assert await counters[0].count("ip") == 40
    finally:
        for node in nodes:
            await node.aclose()


async def test_unreachable_redis_is_service_unavailable() -> None:
    client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    counter = RedisAttemptCounter(client)
    try:
        with pytest.raises(ServiceUnavailable):
            await counter.hit("a", 60)
        with pytest.raises(ServiceUnavailable):
            await counter.count("a")
    finally:
        await client.aclose()
