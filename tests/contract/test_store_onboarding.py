"""Contract: invitations, requests to join and one-time tokens."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from authgate.errors import Conflict, NotFound
from authgate.identity.models import Organization, RequestStatus, TokenPurpose, User
from authgate.store import SqlStore

from . import records
from .records import DAY, NOW


async def test_invite_round_trip_and_organization_isolation(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    other_org = records.org()
    await store.orgs.create(other_org)
    invite = records.invite(an_org.id, invited_by=a_user.id)
    await store.invites.create(invite)

    assert await store.invites.get(an_org.id, invite.id) == invite
    assert await store.invites.get(other_org.id, invite.id) is None
    assert await store.invites.get_by_token_hash(invite.token_hash) == invite
    assert await store.invites.get_by_token_hash("0" * 64) is None
    assert await store.invites.list_for_org(other_org.id) == []


async def test_invites_are_listed_newest_first(store: SqlStore, an_org: Organization) -> None:
    old = records.invite(an_org.id, created_at=NOW - DAY)
    new = records.invite(an_org.id, created_at=NOW)
    for invite in (old, new):
        await store.invites.create(invite)

    assert await store.invites.list_for_org(an_org.id) == [new, old]


async def test_duplicate_invite_token_hash_is_a_conflict(
    store: SqlStore, an_org: Organization
) -> None:
    invite = records.invite(an_org.id)
    await store.invites.create(invite)

    with pytest.raises(Conflict) as caught:
        await store.invites.create(records.invite(an_org.id, token_hash=invite.token_hash))
    assert invite.token_hash not in str(caught.value)


async def test_invite_update_replaces_resend_fields(store: SqlStore, an_org: Organization) -> None:
    invite = records.invite(an_org.id)
    await store.invites.create(invite)
    resent = replace(invite, token_hash="f" * 64, expires_at=NOW + 2 * DAY, sent_count=2)

    await store.invites.update(resent)
    assert await store.invites.get(an_org.id, invite.id) == resent
    assert await store.invites.get_by_token_hash(invite.token_hash) is None

    revoked = replace(resent, revoked_at=NOW)
    await store.invites.update(revoked)
    assert await store.invites.get(an_org.id, invite.id) == revoked
    with pytest.raises(NotFound):
        await store.invites.update(records.invite(an_org.id))


async def test_invite_is_accepted_once(store: SqlStore, an_org: Organization) -> None:
    invite = records.invite(an_org.id)
    await store.invites.create(invite)

    assert await store.invites.mark_accepted(invite.id, NOW) is True
    assert await store.invites.mark_accepted(invite.id, NOW + timedelta(1)) is False
    stored = await store.invites.get(an_org.id, invite.id)
    assert stored is not None
    assert stored.accepted_at == NOW
    assert stored.is_open is False
    assert await store.invites.mark_accepted("missing", NOW) is False


async def test_concurrent_acceptances_accept_once(store: SqlStore, an_org: Organization) -> None:
    invite = records.invite(an_org.id)
    await store.invites.create(invite)

    results = await asyncio.gather(*(store.invites.mark_accepted(invite.id, NOW) for _ in range(8)))
    assert sorted(results) == [False] * 7 + [True]


async def test_revoked_invite_cannot_be_accepted(store: SqlStore, an_org: Organization) -> None:
    invite = records.invite(an_org.id, revoked_at=NOW)
    await store.invites.create(invite)

    assert await store.invites.mark_accepted(invite.id, NOW) is False


async def test_join_request_round_trip_and_isolation(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    other_org = records.org()
    await store.orgs.create(other_org)
    request = records.join_request(an_org.id, a_user.id)
    await store.join_requests.create(request)

    assert await store.join_requests.get(an_org.id, request.id) == request
    assert await store.join_requests.get(other_org.id, request.id) is None
    assert await store.join_requests.find_pending(an_org.id, a_user.id) == request
    assert await store.join_requests.find_pending(other_org.id, a_user.id) is None
    assert await store.join_requests.list_for_org(other_org.id) == []


async def test_join_request_is_decided_once(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    admin = records.user()
    await store.users.create(admin)
    request = records.join_request(an_org.id, a_user.id)
    await store.join_requests.create(request)

    assert await store.join_requests.decide(request.id, RequestStatus.APPROVED, admin.id, NOW)
    assert not await store.join_requests.decide(request.id, RequestStatus.DENIED, admin.id, NOW)
    decided = replace(request, status=RequestStatus.APPROVED, decided_by=admin.id, decided_at=NOW)
    assert await store.join_requests.get(an_org.id, request.id) == decided
    assert await store.join_requests.find_pending(an_org.id, a_user.id) is None
    with pytest.raises(ValueError, match="APPROVED or DENIED"):
        await store.join_requests.decide(request.id, RequestStatus.PENDING, admin.id, NOW)


async def test_join_requests_listed_newest_first_with_users_and_filter(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    other = records.user()
    await store.users.create(other)
    old = records.join_request(an_org.id, a_user.id, created_at=NOW - DAY)
    new = records.join_request(an_org.id, other.id, created_at=NOW)
    for request in (old, new):
        await store.join_requests.create(request)
    await store.join_requests.decide(old.id, RequestStatus.DENIED, other.id, NOW)
    denied = replace(old, status=RequestStatus.DENIED, decided_by=other.id, decided_at=NOW)

    assert await store.join_requests.list_for_org(an_org.id) == [(new, other), (denied, a_user)]
    pending = await store.join_requests.list_for_org(an_org.id, RequestStatus.PENDING)
    assert pending == [(new, other)]
    assert await store.join_requests.list_for_org(an_org.id, RequestStatus.APPROVED) == []


async def test_one_time_token_is_consumed_once(store: SqlStore, a_user: User) -> None:
    token = records.one_time_token(a_user.id)
    await store.one_time_tokens.create(token)
    assert await store.one_time_tokens.get_by_hash(token.token_hash) == token

    results = await asyncio.gather(
        *(store.one_time_tokens.consume(token.id, NOW) for _ in range(5))
    )
    assert sorted(results) == [False] * 4 + [True]
    assert await store.one_time_tokens.consume(token.id, NOW) is False
    assert await store.one_time_tokens.get_by_hash(token.token_hash) == replace(token, used_at=NOW)
    assert await store.one_time_tokens.get_by_hash("0" * 64) is None


async def test_invalidate_spends_only_that_users_tokens_of_that_purpose(
    store: SqlStore, a_user: User
) -> None:
    other = records.user()
    await store.users.create(other)
    reset_1 = records.one_time_token(a_user.id)
    reset_2 = records.one_time_token(a_user.id)
    verify = records.one_time_token(a_user.id, TokenPurpose.VERIFY_EMAIL)
    others = records.one_time_token(other.id)
    for token in (reset_1, reset_2, verify, others):
        await store.one_time_tokens.create(token)
    await store.one_time_tokens.consume(reset_1.id, NOW - DAY)

    await store.one_time_tokens.invalidate(a_user.id, TokenPurpose.RESET_PASSWORD, NOW)

    get = store.one_time_tokens.get_by_hash
    assert await get(reset_1.token_hash) == replace(reset_1, used_at=NOW - DAY)
    assert await get(reset_2.token_hash) == replace(reset_2, used_at=NOW)
    assert await get(verify.token_hash) == verify
    assert await get(others.token_hash) == others
    assert await store.one_time_tokens.consume(reset_2.id, NOW) is False
