"""The provisioning hook: once per new (instance, user), and again after it failed."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import timedelta

import pytest

from authgate.homeserver import (
    AsyncSignedFetchVerifier,
    InMemoryKnownUsers,
    SignedFetch,
    SignedFetchVerifier,
)
from tests.unit.homeserver.conftest import (
    APP_KEY,
    APP_SECRET,
    NOW,
    fixed_clock,
    gateway_sign,
    gateway_url,
)


def signed_for(owner: str, n: int) -> tuple[str, dict[str, str]]:
    return gateway_sign(url=gateway_url(owner=owner), now=NOW + timedelta(seconds=n % 100))


def test_the_hook_runs_once_per_new_instance_and_user() -> None:
    seen: list[SignedFetch] = []
    checker = SignedFetchVerifier(
        {APP_KEY: APP_SECRET}, clock=fixed_clock(), on_new_user=seen.append
    )
    owners = ["u1@i1", "u1@i1", "u2@i1", "u1@i2", "u2@i1", "u1@i1", "a@b@i1", "a@b@i1"]
    for n, owner in enumerate(owners):
        url, headers = signed_for(owner, n)
        checker.verify("GET", url, headers)
    assert [(f.instance_id, f.user_id) for f in seen] == [
        ("i1", "u1"),
        ("i1", "u2"),
        ("i2", "u1"),
        ("i1", "a@b"),
    ]
    assert seen[0].app_id == "crm"


def test_a_failed_hook_fails_the_request_and_runs_again_next_time() -> None:
    calls: list[str] = []

    def flaky(fetch: SignedFetch) -> None:
        calls.append(fetch.owner_id)
        if len(calls) == 1:
            raise RuntimeError("database down")

    checker = SignedFetchVerifier({APP_KEY: APP_SECRET}, clock=fixed_clock(), on_new_user=flaky)
    url, headers = signed_for("u1@i1", 1)
    with pytest.raises(RuntimeError, match="database down"):
        checker.verify("GET", url, headers)
    url, headers = signed_for("u1@i1", 2)
    checker.verify("GET", url, headers)
    url, headers = signed_for("u1@i1", 3)
    checker.verify("GET", url, headers)
    assert calls == ["u1@i1", "u1@i1"]


def test_concurrent_first_requests_provision_once_and_wait_for_it() -> None:
    counts: Counter[str] = Counter()
    done: set[str] = set()
    lock = threading.Lock()
    finished_before_return: list[bool] = []

    def provision(fetch: SignedFetch) -> None:
        with lock:
            counts[fetch.owner_id] += 1
        done.add(fetch.owner_id)

    checker = SignedFetchVerifier({APP_KEY: APP_SECRET}, clock=fixed_clock(), on_new_user=provision)
    requests = [signed_for(f"user{n % 5}@inst", n) for n in range(100)]
    barrier = threading.Barrier(10)

    def worker(part: int) -> None:
        barrier.wait()
        for url, headers in requests[part::10]:
            fetch = checker.verify("GET", url, headers)
            finished_before_return.append(fetch.owner_id in done)

    threads = [threading.Thread(target=worker, args=(p,)) for p in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts == Counter({f"user{n}@inst": 1 for n in range(5)})
    assert len(finished_before_return) == 100
    assert all(finished_before_return)


def test_known_users_are_bounded_and_forget_the_oldest() -> None:
    known = InMemoryKnownUsers(2)
    assert known.add("i", "a")
    assert known.add("i", "b")
    assert not known.add("i", "a")  # refreshes a
    assert known.add("i", "c")  # forgets b, the least recent
    assert ("i", "a") in known
    assert ("i", "b") not in known
    with pytest.raises(ValueError, match="at least 1"):
        InMemoryKnownUsers(0)


async def test_async_hook_and_store_run_once_per_user_under_concurrency() -> None:
    seen: list[str] = []

    class SlowKnownUsers:
        """An awaitable store, like a database table would be."""

        def __init__(self) -> None:
            self.pairs: set[tuple[str, str]] = set()

        async def add(self, instance_id: str, user_id: str) -> bool:
            await asyncio.sleep(0)
            if (instance_id, user_id) in self.pairs:
                return False
            self.pairs.add((instance_id, user_id))
            return True

        async def discard(self, instance_id: str, user_id: str) -> None:
            self.pairs.discard((instance_id, user_id))

    async def provision(fetch: SignedFetch) -> None:
        await asyncio.sleep(0)
        seen.append(fetch.owner_id)

    checker = AsyncSignedFetchVerifier(
        {APP_KEY: APP_SECRET},
        clock=fixed_clock(),
        known_users=SlowKnownUsers(),
        on_new_user=provision,
    )
    requests = [signed_for(f"user{n % 3}@inst", n) for n in range(30)]
    results = await asyncio.gather(*(checker.verify("GET", u, h) for u, h in requests))
    assert len(results) == 30
    assert sorted(seen) == ["user0@inst", "user1@inst", "user2@inst"]


async def test_async_verifier_gives_the_hook_back_its_claim_on_failure() -> None:
    calls = 0

    async def failing(fetch: SignedFetch) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("try later")

    checker = AsyncSignedFetchVerifier(
        {APP_KEY: APP_SECRET}, clock=fixed_clock(), on_new_user=failing
    )
    url, headers = signed_for("u@i", 1)
    with pytest.raises(RuntimeError):
        await checker.verify("GET", url, headers)
    url, headers = signed_for("u@i", 2)
    await checker.verify("GET", url, headers)
    assert calls == 2
