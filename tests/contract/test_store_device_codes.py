"""Contract: device authorization requests (RFC 8628) on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from authgate.errors import Conflict
from authgate.identity.models import Organization, User
from authgate.store import SqlStore
from authgate.tokens.device_codes import DeviceAuthorization, DeviceCodeStatus

from .records import NOW, new_id


def authorization(**kw: object) -> DeviceAuthorization:
    values: dict[str, object] = {
        "id": new_id("dev"),
        "device_code_hash": new_id("device"),
        "user_code_hash": new_id("user"),
        "client_id": "authgate-device",
        "scope": "openid",
        "status": DeviceCodeStatus.PENDING,
        "interval": 5,
        "created_at": NOW,
        "expires_at": NOW + timedelta(minutes=10),
    }
    values.update(kw)
    return DeviceAuthorization(**values)  # type: ignore[arg-type]


async def test_round_trip_by_either_code(store: SqlStore) -> None:
    stored = authorization()
    await store.device_codes.create(stored)
    assert await store.device_codes.by_device_code(stored.device_code_hash) == stored
    assert await store.device_codes.by_user_code(stored.user_code_hash) == stored
    assert await store.device_codes.by_device_code("unknown") is None
    try:
        await store.device_codes.create(replace(stored, id=new_id("dev")))
    except Conflict:
        pass
    else:
        raise AssertionError("a second authorization with the same codes was stored")


async def test_one_decision_wins_and_redeems_once(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    stored = authorization()
    await store.device_codes.create(stored)
    decisions = await asyncio.gather(
        store.device_codes.decide(stored.id, DeviceCodeStatus.APPROVED, a_user.id, an_org.id, NOW),
        store.device_codes.decide(stored.id, DeviceCodeStatus.DENIED, a_user.id, None, NOW),
    )
    assert sorted(decisions) == [False, True]
    decided = await store.device_codes.by_device_code(stored.device_code_hash)
    assert decided is not None
    assert decided.status is not DeviceCodeStatus.PENDING
    assert decided.user_id == a_user.id
    assert decided.decided_at == NOW
    if decided.status is DeviceCodeStatus.APPROVED:
        assert decided.org_id == an_org.id
        redeemed = await asyncio.gather(
            store.device_codes.redeem(stored.id, NOW), store.device_codes.redeem(stored.id, NOW)
        )
        assert sorted(redeemed) == [False, True]
    else:
        assert not await store.device_codes.redeem(stored.id, NOW)


async def test_polls_remember_the_previous_time_and_expired_rows_go(store: SqlStore) -> None:
    stored = authorization()
    old = authorization(expires_at=NOW - timedelta(days=2))
    await store.device_codes.create(stored)
    await store.device_codes.create(old)
    assert await store.device_codes.polled(stored.id, NOW) is None
    assert await store.device_codes.polled(stored.id, NOW + timedelta(seconds=7)) == NOW
    assert await store.device_codes.prune(NOW - timedelta(days=1)) == 1
    assert await store.device_codes.by_device_code(old.device_code_hash) is None
    assert await store.device_codes.by_device_code(stored.device_code_hash) is not None
