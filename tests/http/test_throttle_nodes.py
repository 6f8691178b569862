"""Sign-in throttling across nodes: shared through Redis, per process without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.http.conftest import PASSWORD, running, unique

pytestmark = pytest.mark.redis
WRONG = "wrong-Password-for-sure-1"


async def test_failures_at_one_node_throttle_the_account_at_another(
    tmp_path: Path, redis_url: str
) -> None:
    limits = {"redis_url": redis_url, "signin_account_limit": 3}
    async with running(tmp_path, **limits) as a, running(tmp_path, **limits) as b:
        email = f"{unique('victim')}@redis.test"
        await a.org(unique("redis"), await a.user(email))
        for node in (a, b, a):
            assert (await node.login_response(email, WRONG)).status_code == 401
        blocked = await b.login_response(email, PASSWORD)
        assert blocked.status_code == 429
        assert blocked.headers["retry-after"]


async def test_without_redis_each_node_counts_only_its_own_failures(tmp_path: Path) -> None:
    limits = {"signin_account_limit": 3}
    async with running(tmp_path, **limits) as a, running(tmp_path, **limits) as b:
        email = f"{unique('victim')}@memory.test"
        await a.org(unique("memory"), await a.user(email))
        for _ in range(3):
            assert (await a.login_response(email, WRONG)).status_code == 401
        assert (await a.login_response(email, PASSWORD)).status_code == 429
        assert (await b.login_response(email, PASSWORD)).status_code == 200
