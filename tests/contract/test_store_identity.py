"""Contract: organizations, users and memberships."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from authgate.errors import Conflict, NotFound
from authgate.identity.models import DomainJoin, Membership, Organization, Role, User
from authgate.store import SqlStore

from . import records
from .records import NOW


async def test_organization_round_trip_keeps_domains_in_order(store: SqlStore) -> None:
    org = records.org(domains=("zeta.example", "alpha.example"), request_email="it@x.example")
    await store.orgs.create(org)

    assert await store.orgs.get(org.id) == org
    assert await store.orgs.get_by_slug(org.slug) == org
    assert await store.orgs.get("missing") is None
    assert await store.orgs.get_by_slug("missing") is None


async def test_duplicate_slug_is_a_conflict_without_the_value(
    store: SqlStore, an_org: Organization
) -> None:
    with pytest.raises(Conflict, match="slug") as caught:
        await store.orgs.create(records.org(slug=an_org.slug))

    assert an_org.slug not in str(caught.value)
    assert await store.orgs.count() == 1


async def test_update_replaces_name_domains_and_settings(
    store: SqlStore, an_org: Organization
) -> None:
    changed = replace(
        an_org,
        name="Renamed",
        domains=("b.example", "a.example"),
        domain_join=DomainJoin.AUTO,
        request_email="admins@b.example",
    )
    await store.orgs.update(changed)

    assert await store.orgs.get(an_org.id) == changed
    assert await store.orgs.find_by_domain("a.example") == [changed]

    await store.orgs.update(replace(changed, domains=()))
    assert await store.orgs.find_by_domain("a.example") == []


async def test_update_of_a_missing_organization_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        await store.orgs.update(records.org())


async def test_find_by_domain_lists_every_owner_by_slug(store: SqlStore) -> None:
    second = records.org(slug="b-org", domains=("shared.example", "b.example"))
    first = records.org(slug="a-org", domains=("shared.example",))
    other = records.org(slug="c-org", domains=("other.example",))
    for org in (second, first, other):
        await store.orgs.create(org)

    assert await store.orgs.find_by_domain("shared.example") == [first, second]
    assert await store.orgs.find_by_domain("SHARED.example") == [first, second]
    assert await store.orgs.find_by_domain("unknown.example") == []
    assert await store.orgs.count() == 3


async def test_user_round_trip_and_lookup_by_email(store: SqlStore) -> None:
    user = records.user(email="ada@example.com", password_changed_at=NOW)
    await store.users.create(user)

    assert await store.users.get(user.id) == user
    assert await store.users.get_by_email("ADA@Example.com") == user
    assert await store.users.get_by_email("bob@example.com") is None
    assert await store.users.get("missing") is None


async def test_duplicate_email_is_a_conflict_whatever_its_case(
    store: SqlStore, a_user: User
) -> None:
    with pytest.raises(Conflict, match="email") as caught:
        await store.users.create(records.user(email=a_user.email.upper()))

    assert a_user.email not in str(caught.value).lower()


async def test_user_update_replaces_every_mutable_field(store: SqlStore, a_user: User) -> None:
    changed = replace(
        a_user,
        email="new@example.com",
        display_name="Grace",
        password_hash=None,
        disabled=True,
        email_verified=False,
        password_changed_at=NOW + timedelta(days=1),
    )
    await store.users.update(changed)

    assert await store.users.get(a_user.id) == changed
    assert await store.users.get_by_email(a_user.email) is None


async def test_user_update_to_a_taken_email_is_a_conflict(store: SqlStore, a_user: User) -> None:
    other = records.user()
    await store.users.create(other)

    with pytest.raises(Conflict):
        await store.users.update(replace(other, email=a_user.email))
    assert await store.users.get(other.id) == other


async def test_user_update_of_a_missing_user_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        await store.users.update(records.user())


async def test_datetimes_come_back_aware_in_utc(store: SqlStore) -> None:
    plus_two = timezone(timedelta(hours=2))
    created = datetime(2031, 6, 1, 12, 30, 15, 987654, tzinfo=plus_two)
    user = records.user(created_at=created)
    await store.users.create(user)

    loaded = await store.users.get(user.id)
    assert loaded is not None
    assert loaded.created_at == created
    assert loaded.created_at.tzinfo is UTC
    assert (loaded.created_at.hour, loaded.created_at.microsecond) == (10, 987654)
    assert loaded.password_changed_at is None


async def test_naive_datetimes_are_refused(store: SqlStore) -> None:
    user = records.user(created_at=datetime(2030, 1, 1))
    with pytest.raises(Exception, match="naive datetime"):
        await store.users.create(user)
    assert await store.users.get(user.id) is None


async def test_membership_put_get_and_replace_role(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    member = Membership(an_org.id, a_user.id, Role.ADMIN, NOW)
    await store.memberships.put(member)
    assert await store.memberships.get(an_org.id, a_user.id) == member

    await store.memberships.put(replace(member, role=Role.DENY, created_at=NOW + timedelta(1)))
    # The role changes; the membership keeps the time it was created.
    assert await store.memberships.get(an_org.id, a_user.id) == replace(member, role=Role.DENY)
    assert await store.memberships.get(an_org.id, "other") is None


async def test_membership_lists_and_counts(store: SqlStore) -> None:
    org_b = records.org(slug="bravo", domains=("b.example",))
    org_a = records.org(slug="alpha")
    zed = records.user(email="zed@example.com")
    amy = records.user(email="amy@example.com")
    for org in (org_b, org_a):
        await store.orgs.create(org)
    for user in (zed, amy):
        await store.users.create(user)
    await store.memberships.put(Membership(org_b.id, zed.id, Role.OWNER, NOW))
    await store.memberships.put(Membership(org_b.id, amy.id, Role.USER, NOW))
    await store.memberships.put(Membership(org_a.id, zed.id, Role.USER, NOW))

    members = await store.memberships.list_for_org(org_b.id)
    assert [(m.role, u) for m, u in members] == [(Role.USER, amy), (Role.OWNER, zed)]
    of_zed = await store.memberships.list_for_user(zed.id)
    assert [(m.org_id, o) for m, o in of_zed] == [(org_a.id, org_a), (org_b.id, org_b)]
    assert await store.memberships.count_role(org_b.id, "OWNER") == 1
    assert await store.memberships.count_role(org_b.id, Role.ADMIN) == 0
    assert await store.memberships.count_role(org_a.id, Role.OWNER) == 0


async def test_membership_delete(store: SqlStore, an_org: Organization, a_user: User) -> None:
    await store.memberships.put(Membership(an_org.id, a_user.id, Role.USER, NOW))

    assert await store.memberships.delete(an_org.id, a_user.id) is True
    assert await store.memberships.delete(an_org.id, a_user.id) is False
    assert await store.memberships.get(an_org.id, a_user.id) is None
    assert await store.memberships.list_for_user(a_user.id) == []


async def test_active_role_requires_an_enabled_user_and_a_role_other_than_deny(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    assert await store.memberships.active_role(an_org.id, a_user.id) is None
    await store.memberships.put(Membership(an_org.id, a_user.id, Role.MAKER, NOW))
    assert await store.memberships.active_role(an_org.id, a_user.id) is Role.MAKER
    await store.memberships.put(Membership(an_org.id, a_user.id, Role.DENY, NOW))
    assert await store.memberships.active_role(an_org.id, a_user.id) is None
    await store.memberships.put(Membership(an_org.id, a_user.id, Role.OWNER, NOW))
    await store.users.update(replace(a_user, disabled=True))
    assert await store.memberships.active_role(an_org.id, a_user.id) is None
    assert await store.memberships.active_role("another-org", a_user.id) is None


async def test_active_member_reads_the_user_with_the_active_role(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    assert await store.memberships.active_member(an_org.id, a_user.id) is None
    await store.memberships.put(Membership(an_org.id, a_user.id, Role.MAKER, NOW))
    assert await store.memberships.active_member(an_org.id, a_user.id) == (a_user, Role.MAKER)
    await store.memberships.put(Membership(an_org.id, a_user.id, Role.DENY, NOW))
    assert await store.memberships.active_member(an_org.id, a_user.id) is None
    await store.memberships.put(Membership(an_org.id, a_user.id, Role.USER, NOW))
    await store.users.update(replace(a_user, disabled=True))
    assert await store.memberships.active_member(an_org.id, a_user.id) is None
    assert await store.memberships.active_member("another-org", a_user.id) is None
