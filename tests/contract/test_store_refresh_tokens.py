"""Contract: token families and rotating refresh tokens."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import delete

from authgate.errors import Conflict
from authgate.identity.models import Membership, Organization, Role, User
from authgate.store import SqlStore
from authgate.store.tables import users
from authgate.tokens.models import RefreshToken, Rotation, RotationOutcome, TokenFamily

from . import records
from .records import DAY, HOUR, NOW

ROTATED, REUSED, UNKNOWN = RotationOutcome.ROTATED, RotationOutcome.REUSED, RotationOutcome.UNKNOWN


@pytest.fixture
def fam(an_org: Organization, a_user: User) -> TokenFamily:
    """A live family (not stored yet)."""
    return records.family(a_user.id, an_org.id)


async def test_create_family_find_and_get(store: SqlStore, fam: TokenFamily) -> None:
    first = records.refresh_token(fam.id)
    await store.refresh_tokens.create_family(fam, first)

    assert await store.refresh_tokens.find(first.token_hash) == (fam, first)
    assert await store.refresh_tokens.get_family(fam.id) == fam
    assert await store.refresh_tokens.find("0" * 64) is None
    assert await store.refresh_tokens.get_family("missing") is None
    with pytest.raises(Conflict):
        await store.refresh_tokens.create_family(fam, records.refresh_token(fam.id))


async def test_rotate_spends_the_token_and_adds_the_successor(
    store: SqlStore, fam: TokenFamily
) -> None:
    first = records.refresh_token(fam.id)
    await store.refresh_tokens.create_family(fam, first)
    # The successor joins the presented token's family, whatever family it names.
    successor = records.refresh_token("some-other-family", created_at=NOW + HOUR)

    rotation = await store.refresh_tokens.rotate(first.token_hash, successor, NOW + HOUR)

    assert (rotation.outcome, rotation.family) == (ROTATED, fam)
    assert await store.refresh_tokens.find(first.token_hash) == (
        fam,
        replace(first, used_at=NOW + HOUR),
    )
    assert await store.refresh_tokens.find(successor.token_hash) == (
        fam,
        replace(successor, family_id=fam.id),
    )
    then = await store.refresh_tokens.rotate(
        successor.token_hash, records.refresh_token(fam.id), NOW + 2 * HOUR
    )
    assert then.outcome is ROTATED


async def test_reuse_revokes_the_family_and_its_other_tokens(
    store: SqlStore, fam: TokenFamily
) -> None:
    first = records.refresh_token(fam.id)
    await store.refresh_tokens.create_family(fam, first)
    successor = records.refresh_token(fam.id)
    await store.refresh_tokens.rotate(first.token_hash, successor, NOW)

    replay = await store.refresh_tokens.rotate(
        first.token_hash, records.refresh_token(fam.id), NOW + HOUR
    )

    revoked = replace(fam, revoked_at=NOW + HOUR, revoked_reason="reuse")
    assert (replay.outcome, replay.family) == (REUSED, revoked)
    assert await store.refresh_tokens.get_family(fam.id) == revoked
    # The thief's (or the victim's) successor is now useless, and so is a second replay.
    late = await store.refresh_tokens.rotate(
        successor.token_hash, records.refresh_token(fam.id), NOW + 2 * HOUR
    )
    assert (late.outcome, late.family) == (UNKNOWN, None)
    again = await store.refresh_tokens.rotate(
        first.token_hash, records.refresh_token(fam.id), NOW + 2 * HOUR
    )
    assert again.outcome is UNKNOWN


async def test_unknown_token_rotates_nothing(store: SqlStore, fam: TokenFamily) -> None:
    await store.refresh_tokens.create_family(fam, records.refresh_token(fam.id))
    successor = records.refresh_token(fam.id)

    rotation = await store.refresh_tokens.rotate("0" * 64, successor, NOW)

    assert (rotation.outcome, rotation.family) == (UNKNOWN, None)
    assert await store.refresh_tokens.find(successor.token_hash) is None


async def test_token_of_a_revoked_family_is_unknown(store: SqlStore, fam: TokenFamily) -> None:
    first = records.refresh_token(fam.id)
    await store.refresh_tokens.create_family(fam, first)
    assert await store.refresh_tokens.revoke_family(fam.id, "logout", NOW) is True

    successor = records.refresh_token(fam.id)
    rotation = await store.refresh_tokens.rotate(first.token_hash, successor, NOW + HOUR)

    assert (rotation.outcome, rotation.family) == (UNKNOWN, None)
    assert await store.refresh_tokens.find(successor.token_hash) is None
    stored = await store.refresh_tokens.get_family(fam.id)
    assert stored == replace(fam, revoked_at=NOW, revoked_reason="logout")


async def test_token_of_an_expired_family_is_unknown(store: SqlStore, fam: TokenFamily) -> None:
    first = records.refresh_token(fam.id)
    await store.refresh_tokens.create_family(fam, first)

    rotation = await store.refresh_tokens.rotate(
        first.token_hash, records.refresh_token(fam.id), fam.expires_at
    )

    assert rotation.outcome is UNKNOWN
    assert await store.refresh_tokens.find(first.token_hash) == (fam, first)


async def test_expired_token_is_unknown_even_when_spent(store: SqlStore, fam: TokenFamily) -> None:
    first = records.refresh_token(fam.id, expires_at=NOW + DAY)
    await store.refresh_tokens.create_family(fam, first)

    late = NOW + DAY
    rotation = await store.refresh_tokens.rotate(
        first.token_hash, records.refresh_token(fam.id), late
    )
    assert rotation.outcome is UNKNOWN
    assert await store.refresh_tokens.find(first.token_hash) == (fam, first)

    await store.refresh_tokens.rotate(first.token_hash, records.refresh_token(fam.id), NOW)
    replay = await store.refresh_tokens.rotate(
        first.token_hash, records.refresh_token(fam.id), late
    )
    assert replay.outcome is UNKNOWN
    assert await store.refresh_tokens.get_family(fam.id) == fam


async def test_concurrent_rotations_rotate_once_and_revoke_the_family(
    store: SqlStore, fam: TokenFamily
) -> None:
    first = records.refresh_token(fam.id)
    await store.refresh_tokens.create_family(fam, first)
    successors = [records.refresh_token(fam.id) for _ in range(20)]

    rotations = await asyncio.gather(
        *(store.refresh_tokens.rotate(first.token_hash, s, NOW) for s in successors)
    )

    outcomes = [rotation.outcome for rotation in rotations]
    assert outcomes.count(ROTATED) == 1
    # Every loser saw the token spent: a replay (or, once revoked, an unknown family).
    assert set(outcomes) <= {ROTATED, REUSED, UNKNOWN}
    assert REUSED in outcomes
    stored = await store.refresh_tokens.get_family(fam.id)
    assert stored is not None
    assert stored.revoked_reason == "reuse"
    # The family never forked: only the winner's successor was stored.
    stored_successors = [
        s for s in successors if await store.refresh_tokens.find(s.token_hash) is not None
    ]
    assert len(stored_successors) == 1


async def test_revoke_family_reports_whether_it_was_live(store: SqlStore, fam: TokenFamily) -> None:
    await store.refresh_tokens.create_family(fam, records.refresh_token(fam.id))

    assert await store.refresh_tokens.revoke_family(fam.id, "logout", NOW) is True
    assert await store.refresh_tokens.revoke_family(fam.id, "again", NOW + HOUR) is False
    assert await store.refresh_tokens.revoke_family("missing", "logout", NOW) is False
    stored = await store.refresh_tokens.get_family(fam.id)
    assert stored is not None
    assert (stored.revoked_at, stored.revoked_reason) == (NOW, "logout")


async def test_revoke_for_user_scopes_by_organization_and_spares_one_family(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    other_org = records.org()
    other_user = records.user()
    await store.orgs.create(other_org)
    await store.users.create(other_user)
    here = [records.family(a_user.id, an_org.id) for _ in range(3)]
    there = records.family(a_user.id, other_org.id)
    someone_else = records.family(other_user.id, an_org.id)
    expired = records.family(a_user.id, an_org.id, expires_at=NOW)
    for family in (*here, there, someone_else, expired):
        await store.refresh_tokens.create_family(family, records.refresh_token(family.id))

    revoked = await store.refresh_tokens.revoke_for_user(
        a_user.id, "password_change", NOW, org_id=an_org.id, except_family=here[0].id
    )

    assert revoked == 2
    get = store.refresh_tokens.get_family
    assert [await get(f.id) for f in here[1:]] == [
        replace(f, revoked_at=NOW, revoked_reason="password_change") for f in here[1:]
    ]
    assert await get(here[0].id) == here[0]
    assert await get(there.id) == there
    assert await get(someone_else.id) == someone_else
    assert await get(expired.id) == expired

    assert await store.refresh_tokens.revoke_for_user(a_user.id, "disabled", NOW) == 2
    assert await store.refresh_tokens.revoke_for_user(a_user.id, "disabled", NOW) == 0


async def test_deleting_a_user_removes_their_families(
    store: SqlStore, fam: TokenFamily, a_user: User
) -> None:
    first = records.refresh_token(fam.id)
    await store.refresh_tokens.create_family(fam, first)
    async with store.db.connection() as conn:
        await conn.execute(delete(users).where(users.c.id == a_user.id))

    assert await store.refresh_tokens.find(first.token_hash) is None
    assert await store.refresh_tokens.get_family(fam.id) is None


async def test_prune_deletes_ended_sessions_with_their_tokens_and_keeps_live_ones(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    live_family = records.family(a_user.id, an_org.id)
    expired = records.family(a_user.id, an_org.id, expires_at=NOW - DAY)
    revoked = records.family(a_user.id, an_org.id)
    recently_revoked = records.family(a_user.id, an_org.id)
    tokens = {}
    for family in (live_family, expired, revoked, recently_revoked):
        tokens[family.id] = records.refresh_token(family.id)
        await store.refresh_tokens.create_family(family, tokens[family.id])
    await store.refresh_tokens.revoke_family(revoked.id, "logout", NOW - DAY)
    await store.refresh_tokens.revoke_family(recently_revoked.id, "logout", NOW)

    assert await store.refresh_tokens.prune(NOW - HOUR) == 2

    get = store.refresh_tokens.get_family
    assert await get(expired.id) is None
    assert await get(revoked.id) is None
    assert await store.refresh_tokens.find(tokens[expired.id].token_hash) is None
    assert await get(live_family.id) == live_family
    assert (await get(recently_revoked.id)) is not None
    assert await store.refresh_tokens.find(tokens[live_family.id].token_hash) is not None
    assert await store.refresh_tokens.prune(NOW - HOUR) == 0


async def test_find_with_role_reports_the_users_current_access(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    family = records.family(a_user.id, an_org.id)
    token = records.refresh_token(family.id)
    await store.refresh_tokens.create_family(family, token)
    assert await store.refresh_tokens.find_with_role(token.token_hash) == (family, token, None)
    await store.memberships.put(Membership(an_org.id, a_user.id, Role.ADMIN, NOW))
    assert await store.refresh_tokens.find_with_role(token.token_hash) == (
        family,
        token,
        Role.ADMIN,
    )
    await store.memberships.put(Membership(an_org.id, a_user.id, Role.DENY, NOW))
    assert (await store.refresh_tokens.find_with_role(token.token_hash))[2] is None
    await store.memberships.put(Membership(an_org.id, a_user.id, Role.USER, NOW))
    await store.users.update(replace(a_user, disabled=True))
    assert (await store.refresh_tokens.find_with_role(token.token_hash))[2] is None
    assert await store.refresh_tokens.find_with_role("0" * 64) is None


# --- rotate_for_client: the refresh grant's rotation, checking the client and the access ---

CLIENT = "authgate-cli"


async def stored_family(store: SqlStore, fam: TokenFamily, role: Role | None) -> RefreshToken:
    """Store ``fam`` with a first token, its user holding ``role`` (None: not a member)."""
    if role is not None:
        await store.memberships.put(Membership(fam.org_id, fam.user_id, role, NOW))
    first = records.refresh_token(fam.id)
    await store.refresh_tokens.create_family(fam, first)
    return first


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.MAKER, Role.USER])
async def test_rotate_for_client_rotates_and_reads_the_role(
    store: SqlStore, fam: TokenFamily, role: Role
) -> None:
    first = await stored_family(store, fam, role)
    successor = records.refresh_token("not-this-family", created_at=NOW + HOUR)

    rotation = await store.refresh_tokens.rotate_for_client(
        first.token_hash, CLIENT, successor, NOW + HOUR
    )

    assert rotation == Rotation(ROTATED, fam, role)
    assert await store.refresh_tokens.find(first.token_hash) == (
        fam,
        replace(first, used_at=NOW + HOUR),
    )
    assert await store.refresh_tokens.find(successor.token_hash) == (
        fam,
        replace(successor, family_id=fam.id),
    )
    then = await store.refresh_tokens.rotate_for_client(
        successor.token_hash, CLIENT, records.refresh_token(fam.id), NOW + 2 * HOUR
    )
    assert (then.outcome, then.role) == (ROTATED, role)


async def test_rotate_for_client_caps_the_successor_at_the_familys_expiry(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    fam = records.family(a_user.id, an_org.id, expires_at=NOW + DAY)
    first = await stored_family(store, fam, Role.USER)
    successor = records.refresh_token(fam.id, expires_at=NOW + 14 * DAY)

    rotation = await store.refresh_tokens.rotate_for_client(
        first.token_hash, CLIENT, successor, NOW
    )

    assert rotation.outcome is ROTATED
    stored = await store.refresh_tokens.find(successor.token_hash)
    assert stored is not None
    assert stored[1].expires_at == fam.expires_at
    # A successor that ends first keeps its own expiry.
    sooner = records.refresh_token(fam.id, expires_at=NOW + HOUR)
    await store.refresh_tokens.rotate_for_client(successor.token_hash, CLIENT, sooner, NOW)
    stored = await store.refresh_tokens.find(sooner.token_hash)
    assert stored is not None
    assert stored[1].expires_at == NOW + HOUR


@pytest.mark.parametrize("spent", [False, True], ids=["unspent", "spent"])
@pytest.mark.parametrize("other", ["authgate-device", "AUTHGATE-CLI", "authgate-cli ", ""])
async def test_another_clients_attempt_spends_and_revokes_nothing(
    store: SqlStore, fam: TokenFamily, spent: bool, other: str
) -> None:
    first = await stored_family(store, fam, Role.USER)
    if spent:
        await store.refresh_tokens.rotate_for_client(
            first.token_hash, CLIENT, records.refresh_token(fam.id), NOW
        )
    before = await store.refresh_tokens.find(first.token_hash)
    successor = records.refresh_token(fam.id)

    rotation = await store.refresh_tokens.rotate_for_client(
        first.token_hash, other, successor, NOW + HOUR
    )

    assert rotation == Rotation(RotationOutcome.OTHER_CLIENT, None)
    assert await store.refresh_tokens.find(first.token_hash) == before
    assert await store.refresh_tokens.find(successor.token_hash) is None
    assert await store.refresh_tokens.get_family(fam.id) == fam


@pytest.mark.parametrize("access", ["not a member", "DENY", "disabled", "disabled DENY"])
async def test_withdrawn_access_spends_the_token_and_stores_no_successor(
    store: SqlStore, fam: TokenFamily, a_user: User, access: str
) -> None:
    first = await stored_family(store, fam, None if access == "not a member" else Role.ADMIN)
    if "DENY" in access:
        await store.memberships.put(Membership(fam.org_id, fam.user_id, Role.DENY, NOW))
    if "disabled" in access:
        await store.users.update(replace(a_user, disabled=True))
    successor = records.refresh_token(fam.id)

    rotation = await store.refresh_tokens.rotate_for_client(
        first.token_hash, CLIENT, successor, NOW
    )

    assert rotation == Rotation(ROTATED, fam, None)
    assert await store.refresh_tokens.find(successor.token_hash) is None
    spent = await store.refresh_tokens.find(first.token_hash)
    assert spent is not None
    assert spent[1].used_at == NOW


async def test_rotate_for_client_reads_the_role_of_the_familys_own_organization(
    store: SqlStore, fam: TokenFamily
) -> None:
    elsewhere = records.org()
    await store.orgs.create(elsewhere)
    await store.memberships.put(Membership(elsewhere.id, fam.user_id, Role.OWNER, NOW))
    first = await stored_family(store, fam, Role.USER)

    rotation = await store.refresh_tokens.rotate_for_client(
        first.token_hash, CLIENT, records.refresh_token(fam.id), NOW
    )

    assert rotation.role is Role.USER


async def test_rotate_for_client_reuse_revokes_the_family(
    store: SqlStore, fam: TokenFamily
) -> None:
    first = await stored_family(store, fam, Role.USER)
    successor = records.refresh_token(fam.id)
    await store.refresh_tokens.rotate_for_client(first.token_hash, CLIENT, successor, NOW)

    replay = await store.refresh_tokens.rotate_for_client(
        first.token_hash, CLIENT, records.refresh_token(fam.id), NOW + HOUR
    )

    revoked = replace(fam, revoked_at=NOW + HOUR, revoked_reason="reuse")
    assert replay == Rotation(REUSED, revoked)
    assert await store.refresh_tokens.get_family(fam.id) == revoked
    late = await store.refresh_tokens.rotate_for_client(
        successor.token_hash, CLIENT, records.refresh_token(fam.id), NOW + 2 * HOUR
    )
    assert late == Rotation(UNKNOWN, None)


@pytest.mark.parametrize("case", ["unknown", "expired token", "expired family", "revoked"])
async def test_rotate_for_client_of_an_unusable_token_is_unknown(
    store: SqlStore, an_org: Organization, a_user: User, case: str
) -> None:
    fam = records.family(a_user.id, an_org.id, expires_at=NOW + 2 * DAY)
    await store.memberships.put(Membership(an_org.id, a_user.id, Role.USER, NOW))
    first = records.refresh_token(fam.id, expires_at=NOW + DAY)
    await store.refresh_tokens.create_family(fam, first)
    presented, at = first.token_hash, NOW
    if case == "unknown":
        presented = "0" * 64
    elif case == "expired token":
        at = first.expires_at
    elif case == "expired family":
        at = fam.expires_at
    else:
        await store.refresh_tokens.revoke_family(fam.id, "logout", NOW)
    before = await store.refresh_tokens.get_family(fam.id)
    successor = records.refresh_token(fam.id)

    rotation = await store.refresh_tokens.rotate_for_client(presented, CLIENT, successor, at)

    assert rotation == Rotation(UNKNOWN, None)
    assert await store.refresh_tokens.find(successor.token_hash) is None
    assert await store.refresh_tokens.find(first.token_hash) == (before, first)


async def test_concurrent_rotations_for_a_client_rotate_once(
    store: SqlStore, fam: TokenFamily
) -> None:
    first = await stored_family(store, fam, Role.USER)
    successors = [records.refresh_token(fam.id) for _ in range(20)]

    rotations = await asyncio.gather(
        *(
            store.refresh_tokens.rotate_for_client(first.token_hash, CLIENT, s, NOW)
            for s in successors
        )
    )

    outcomes = [rotation.outcome for rotation in rotations]
    assert outcomes.count(ROTATED) == 1
    assert set(outcomes) <= {ROTATED, REUSED, UNKNOWN}
    assert REUSED in outcomes
    stored = await store.refresh_tokens.get_family(fam.id)
    assert stored is not None
    assert stored.revoked_reason == "reuse"
    stored_successors = [
        s for s in successors if await store.refresh_tokens.find(s.token_hash) is not None
    ]
    assert len(stored_successors) == 1


async def test_rotate_for_client_joins_the_transaction_in_progress(
    store: SqlStore, fam: TokenFamily
) -> None:
    first = await stored_family(store, fam, Role.USER)
    successor = records.refresh_token(fam.id)

    seen: list[Rotation] = []

    async def rotate_then_fail() -> None:
        async with store.db.transaction():
            seen.append(
                await store.refresh_tokens.rotate_for_client(
                    first.token_hash, CLIENT, successor, NOW
                )
            )
            raise LookupError("roll back")

    with pytest.raises(LookupError):
        await rotate_then_fail()

    assert seen == [Rotation(ROTATED, fam, Role.USER)]
    # Rolled back with the transaction: the token is unspent and the successor gone.
    assert await store.refresh_tokens.find(first.token_hash) == (fam, first)
    assert await store.refresh_tokens.find(successor.token_hash) is None
