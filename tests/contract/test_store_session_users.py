"""Contract: the person behind a live app session, in one read (userinfo)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from authgate.identity.models import Organization, User
from authgate.store import SqlStore

from . import records
from .records import NOW


async def test_live_user_needs_a_live_session_of_that_user_and_an_enabled_user(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    family = records.family(a_user.id, an_org.id)
    await store.refresh_tokens.create_family(family, records.refresh_token(family.id))
    assert await store.session_users.live_user(family.id, a_user.id, NOW) == a_user
    assert await store.session_users.live_user(family.id, "someone-else", NOW) is None
    assert await store.session_users.live_user("no-such-session", a_user.id, NOW) is None
    after_expiry = family.expires_at + timedelta(seconds=1)
    assert await store.session_users.live_user(family.id, a_user.id, after_expiry) is None
    await store.users.update(replace(a_user, disabled=True))
    assert await store.session_users.live_user(family.id, a_user.id, NOW) is None
    await store.users.update(a_user)
    await store.refresh_tokens.revoke_family(family.id, "logout", NOW)
    assert await store.session_users.live_user(family.id, a_user.id, NOW) is None
