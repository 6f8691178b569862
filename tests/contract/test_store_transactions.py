"""Contract: transactions group calls of every repository, and roll back as one."""

from __future__ import annotations

import pytest

from authgate.errors import Conflict
from authgate.identity.models import Membership, Role
from authgate.store import SqlStore

from . import records
from .records import NOW


class Boom(Exception):
    """Raised on purpose inside a transaction."""


async def test_an_exception_inside_a_transaction_leaves_nothing(store: SqlStore) -> None:
    org, user = records.org(domains=("x.example",)), records.user()

    async def write_then_fail() -> None:
        async with store.transaction():
            await store.orgs.create(org)
            await store.users.create(user)
            await store.memberships.put(Membership(org.id, user.id, Role.OWNER, NOW))
            # Reads inside the transaction see its own writes.
            assert await store.orgs.get(org.id) == org
            raise Boom

    with pytest.raises(Boom):
        await write_then_fail()

    assert await store.orgs.get(org.id) is None
    assert await store.users.get(user.id) is None
    assert await store.memberships.list_for_user(user.id) == []
    assert await store.orgs.find_by_domain("x.example") == []


async def test_a_transaction_commits_when_the_block_ends(store: SqlStore) -> None:
    org, user = records.org(), records.user()

    async with store.transaction():
        await store.orgs.create(org)
        async with store.transaction():  # nesting joins the outer transaction
            await store.users.create(user)
        await store.memberships.put(Membership(org.id, user.id, Role.OWNER, NOW))

    assert await store.memberships.count_role(org.id, Role.OWNER) == 1


async def test_an_inner_failure_rolls_back_the_outer_transaction(store: SqlStore) -> None:
    org, user = records.org(), records.user()

    async def fail_inside() -> None:
        async with store.transaction():
            await store.orgs.create(org)
            async with store.transaction():
                await store.users.create(user)
                raise Boom

    with pytest.raises(Boom):
        await fail_inside()

    assert await store.orgs.get(org.id) is None
    assert await store.users.get(user.id) is None


async def test_a_caught_conflict_does_not_spoil_the_transaction(store: SqlStore) -> None:
    taken = records.user()
    await store.users.create(taken)
    org = records.org()

    async with store.transaction():
        await store.orgs.create(org)
        with pytest.raises(Conflict):
            await store.users.create(records.user(email=taken.email))
        replacement = records.user()
        await store.users.create(replacement)

    assert await store.orgs.get(org.id) == org
    assert await store.users.get(replacement.id) == replacement


async def test_outside_a_transaction_each_call_commits_alone(store: SqlStore) -> None:
    org = records.org()
    await store.orgs.create(org)

    with pytest.raises(Conflict):
        await store.orgs.create(records.org(slug=org.slug))

    assert await store.orgs.get(org.id) == org
    assert store.db.in_transaction is False
