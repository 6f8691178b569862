"""Nonce stores: in memory (bounded, expiring, thread-safe) and in a real Redis."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator

import pytest
import redis
import redis.asyncio

from authgate.homeserver import (
    AsyncRedisNonceStore,
    AsyncSignedFetchVerifier,
    InMemoryNonceStore,
    NonceStoreFull,
    RedisNonceStore,
    ReplayedNonce,
    SignedFetchVerifier,
)
from tests.unit.homeserver.conftest import APP_KEY, APP_SECRET, fixed_clock, gateway_sign


class Ticker:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_nonce_is_new_once() -> None:
    store = InMemoryNonceStore()
    assert store.record("k", "n", 60)
    assert not store.record("k", "n", 60)
    assert store.record("k2", "n", 60)
    assert store.record("k", "n2", 60)


def test_nonces_expire_after_their_ttl() -> None:
    clock = Ticker()
    store = InMemoryNonceStore(clock=clock)
    assert store.record("k", "n", 10)
    clock.now += 9.5
    assert not store.record("k", "n", 10)
    clock.now += 1
    assert len(store) == 0
    assert store.record("k", "n", 10)


def test_a_full_store_refuses_rather_than_forgets() -> None:
    clock = Ticker()
    store = InMemoryNonceStore(3, clock=clock)
    for n in range(3):
        assert store.record("k", f"n{n}", 60)
    with pytest.raises(NonceStoreFull) as caught:
        store.record("k", "n3", 60)
    assert (caught.value.code, caught.value.status) == ("nonce_store_full", 503)
    assert not store.record("k", "n0", 60)  # still remembered: never forgotten early
    clock.now += 61
    assert store.record("k", "n3", 60)  # expired ones made room


def test_the_store_is_bounded_in_memory_under_churn() -> None:
    clock = Ticker()
    store = InMemoryNonceStore(100, clock=clock)
    for n in range(10_000):
        clock.now += 1
        assert store.record("k", f"n{n}", 5)
    assert len(store) <= 5
    assert len(store._queue) <= 6  # the expiry queue is pruned as well


def test_concurrent_threads_record_each_nonce_once() -> None:
    store = InMemoryNonceStore()
    wins: list[bool] = []
    barrier = threading.Barrier(8)

    def race() -> None:
        barrier.wait()
        for n in range(200):
            wins.append(store.record("k", f"n{n}", 60))

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wins.count(True) == 200
    assert len(wins) == 1600


def test_a_bad_capacity_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        InMemoryNonceStore(0)


@pytest.fixture
def prefix() -> str:
    return f"authgate-test:{secrets.token_hex(6)}:"


@pytest.fixture
def sync_redis(redis_url: str, prefix: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.mark.redis
def test_redis_store_records_once_with_an_expiry(sync_redis: redis.Redis, prefix: str) -> None:
    store = RedisNonceStore(sync_redis, prefix=prefix)
    assert store.record("k", "n", 30)
    assert not store.record("k", "n", 30)
    assert store.record("k", "other", 30)
    keys = list(sync_redis.scan_iter(f"{prefix}*"))
    assert len(keys) == 2
    assert all(0 < sync_redis.ttl(key) <= 30 for key in keys)
    # Keys are a fixed-length digest: a nonce or consumer key never shapes the key space.
    assert all(len(key) == len(prefix) + 64 for key in keys)


@pytest.mark.redis
def test_two_verifiers_sharing_redis_refuse_a_replay(sync_redis: redis.Redis, prefix: str) -> None:
    def node() -> SignedFetchVerifier:
        return SignedFetchVerifier(
            {APP_KEY: APP_SECRET},
            clock=fixed_clock(),
            nonces=RedisNonceStore(sync_redis, prefix=prefix),
        )

    url, headers = gateway_sign()
    node().verify("GET", url, headers)
    with pytest.raises(ReplayedNonce):
        node().verify("GET", url, headers)


@pytest.mark.redis
async def test_async_redis_store_under_the_async_verifier(redis_url: str, prefix: str) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        checker = AsyncSignedFetchVerifier(
            {APP_KEY: APP_SECRET},
            clock=fixed_clock(),
            nonces=AsyncRedisNonceStore(client, prefix=prefix),
        )
        url, headers = gateway_sign()
        assert (await checker.verify("GET", url, headers)).consumer_key == APP_KEY
        with pytest.raises(ReplayedNonce):
            await checker.verify("GET", url, headers)
        assert len([key async for key in client.scan_iter(f"{prefix}*")]) == 1
    finally:
        async for key in client.scan_iter(f"{prefix}*"):
            await client.delete(key)
        await client.aclose()
