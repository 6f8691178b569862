"""Contract: solutions, their versions and their members."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime

import pytest

from authgate.errors import Conflict
from authgate.functions.ports import (
    SolutionMember,
    SolutionRecord,
    SolutionRole,
    SolutionVersion,
)
from authgate.identity.models import Organization, User
from authgate.store import SqlStore

from . import records
from .records import DAY, NOW

DOCUMENT = {"name": "sales", "functions": {"list": {"provider": "DATA_PROVIDER_REST"}}}


def solution(org: Organization, name: str = "sales", version: int = 1) -> SolutionRecord:
    return SolutionRecord(records.new_id("sol"), org.id, name, "Sales", None, version, NOW)


def version_of(record: SolutionRecord, **kw: object) -> SolutionVersion:
    values: dict[str, object] = {
        "solution_id": record.id,
        "version": record.version,
        "document": DOCUMENT,
        "warnings": ("functions/list.yaml: 'cacheTime' is not implemented yet",),
        "published_by": None,
        "published_at": NOW,
    }
    values.update(kw)
    return SolutionVersion(**values)  # type: ignore[arg-type]


async def test_publish_then_read_back_exactly(store: SqlStore, an_org: Organization) -> None:
    record = solution(an_org)
    first = version_of(record)
    await store.solutions.publish(record, first)

    assert await store.solutions.get(an_org.id, "sales") == record
    assert await store.solutions.version(record.id, 1) == first
    assert await store.solutions.get(an_org.id, "other") is None
    assert await store.solutions.version(record.id, 2) is None


async def test_new_versions_follow_one_another_and_keep_the_old(
    store: SqlStore, an_org: Organization
) -> None:
    record = solution(an_org)
    await store.solutions.publish(record, version_of(record))
    second = replace(record, version=2, title="Sales v2", updated_at=NOW + DAY)
    await store.solutions.publish(second, version_of(second, document={"v": 2}))

    assert await store.solutions.get(an_org.id, "sales") == second
    old = await store.solutions.version(record.id, 1)
    assert old is not None
    assert old.document == DOCUMENT


async def test_a_stale_publish_loses_and_writes_nothing(
    store: SqlStore, an_org: Organization
) -> None:
    record = solution(an_org)
    await store.solutions.publish(record, version_of(record))
    winner = replace(record, version=2)
    await store.solutions.publish(winner, version_of(winner))

    skipping = replace(record, version=4)
    with pytest.raises(Conflict):
        await store.solutions.publish(skipping, version_of(skipping))
    assert await store.solutions.version(record.id, 4) is None
    assert (await store.solutions.get(an_org.id, "sales")) == winner


async def test_two_new_solutions_with_one_name_conflict(
    store: SqlStore, an_org: Organization
) -> None:
    first, second = solution(an_org), solution(an_org)
    await store.solutions.publish(first, version_of(first))
    with pytest.raises(Conflict):
        await store.solutions.publish(second, version_of(second))
    assert await store.solutions.version(second.id, 1) is None


async def test_concurrent_publishes_of_the_next_version_one_wins(
    store: SqlStore, an_org: Organization
) -> None:
    record = solution(an_org)
    await store.solutions.publish(record, version_of(record))
    nxt = replace(record, version=2)
    outcomes = await asyncio.gather(
        store.solutions.publish(nxt, version_of(nxt, document={"by": "a"})),
        store.solutions.publish(nxt, version_of(nxt, document={"by": "b"})),
        return_exceptions=True,
    )
    assert sum(outcome is None for outcome in outcomes) == 1
    assert sum(isinstance(outcome, Conflict) for outcome in outcomes) == 1


async def test_names_are_per_organization(store: SqlStore, an_org: Organization) -> None:
    other = records.org()
    await store.orgs.create(other)
    mine, theirs = solution(an_org), solution(other)
    await store.solutions.publish(mine, version_of(mine))
    await store.solutions.publish(theirs, version_of(theirs))

    assert [s.id for s in await store.solutions.list_for_org(an_org.id)] == [mine.id]
    assert await store.solutions.get(other.id, "sales") == theirs


async def test_call_target_gives_the_role_of_that_user_only(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    stranger = records.user()
    await store.users.create(stranger)
    record = solution(an_org)
    await store.solutions.publish(record, version_of(record))
    await store.solutions.set_member(SolutionMember(record.id, a_user.id, SolutionRole.USER, NOW))

    target = await store.solutions.call_target(an_org.id, "sales", a_user.id)
    assert target is not None
    assert target.solution == record
    assert target.role is SolutionRole.USER
    assert (target.user_email, target.user_display_name) == (a_user.email, a_user.display_name)
    assert target.user_active is True
    outsider = await store.solutions.call_target(an_org.id, "sales", stranger.id)
    assert outsider is not None
    assert outsider.role is None
    assert await store.solutions.call_target(an_org.id, "missing", a_user.id) is None
    ghost = await store.solutions.call_target(an_org.id, "sales", "usr_missing")
    assert ghost is not None
    assert ghost.user_active is False
    assert ghost.role is None
    assert await store.solutions.call_target("org_other", "sales", a_user.id) is None


async def test_call_target_inside_a_transaction(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    record = solution(an_org)
    async with store.transaction():
        await store.solutions.publish(record, version_of(record))
        member = SolutionMember(record.id, a_user.id, SolutionRole.MAKER, NOW)
        await store.solutions.set_member(member)
        target = await store.solutions.call_target(an_org.id, "sales", a_user.id)
    assert target is not None
    assert target.role is SolutionRole.MAKER


async def test_call_target_tells_whether_the_session_is_live(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    record = solution(an_org)
    await store.solutions.publish(record, version_of(record))
    live = records.family(a_user.id, an_org.id)
    revoked = records.family(a_user.id, an_org.id)
    for family in (live, revoked):
        await store.refresh_tokens.create_family(family, records.refresh_token(family.id))
    await store.refresh_tokens.revoke_family(revoked.id, "logout", NOW)

    async def session_live(session_id: str, at: datetime = NOW) -> bool:
        target = await store.solutions.call_target(an_org.id, "sales", a_user.id, (session_id, at))
        assert target is not None
        return target.session_live

    assert await session_live(live.id) is True
    assert await session_live(revoked.id) is False
    assert await session_live("fam_missing") is False
    assert await session_live(live.id, live.expires_at + DAY) is False
    without = await store.solutions.call_target(an_org.id, "sales", a_user.id)
    assert without is not None
    assert without.session_live is True


async def test_a_disabled_user_is_not_active(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    record = solution(an_org)
    await store.solutions.publish(record, version_of(record))
    await store.users.update(replace(a_user, disabled=True))
    target = await store.solutions.call_target(an_org.id, "sales", a_user.id)
    assert target is not None
    assert target.user_active is False


async def test_members_are_set_changed_and_removed(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    record = solution(an_org)
    await store.solutions.publish(record, version_of(record))
    await store.solutions.set_member(SolutionMember(record.id, a_user.id, SolutionRole.USER, NOW))
    changed = SolutionMember(record.id, a_user.id, SolutionRole.MAKER, NOW + DAY)
    await store.solutions.set_member(changed)

    # Changing the role keeps the date the member was added.
    assert await store.solutions.list_members(record.id) == [
        SolutionMember(record.id, a_user.id, SolutionRole.MAKER, NOW)
    ]
    assert await store.solutions.remove_member(record.id, a_user.id) is True
    assert await store.solutions.remove_member(record.id, a_user.id) is False
    assert await store.solutions.list_members(record.id) == []


async def test_delete_removes_versions_and_members(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    record = solution(an_org)
    await store.solutions.publish(record, version_of(record))
    await store.solutions.set_member(SolutionMember(record.id, a_user.id, SolutionRole.USER, NOW))

    assert await store.solutions.delete(record.id) is True
    assert await store.solutions.delete(record.id) is False
    assert await store.solutions.get(an_org.id, "sales") is None
    assert await store.solutions.version(record.id, 1) is None
    assert await store.solutions.list_members(record.id) == []
