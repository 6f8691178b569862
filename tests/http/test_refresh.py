"""Refresh tokens on SQLite and PostgreSQL: rotation, reuse detection, client and scope binding,
and every way a session ends (logout, password change, disable, removal, DENY, expiry)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from authgate.identity.deps import Actor
from authgate.identity.models import Organization, Role, User
from tests.http.conftest import PASSWORD, Authgate, bearer, unique

DAY = 86400


def assert_invalid_grant(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_grant"
    assert response.headers["cache-control"] == "no-store"


async def signed_in(ag: Authgate) -> tuple[Organization, User, dict[str, Any]]:
    org, owner = await ag.org_with_owner()
    return org, owner, await ag.login(owner.email)


async def test_refresh_rotates_the_token(backend_ag: Authgate) -> None:
    ag = backend_ag
    _, _, tokens = await signed_in(ag)
    response = await ag.refresh(tokens["refresh_token"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["refresh_token"] != tokens["refresh_token"]
    assert body["access_token"] != tokens["access_token"]
    assert body["scope"] == tokens["scope"]
    assert (await ag.me(body["access_token"])).status_code == 200
    again = await ag.refresh(body["refresh_token"])
    assert again.status_code == 200


async def test_reusing_a_spent_token_revokes_the_whole_family(backend_ag: Authgate) -> None:
    ag = backend_ag
    _, _, tokens = await signed_in(ag)
    second = (await ag.refresh(tokens["refresh_token"])).json()
    third = (await ag.refresh(second["refresh_token"])).json()

    assert_invalid_grant(await ag.refresh(tokens["refresh_token"]))
    # The newest token of the family, never presented before, is dead too.
    assert_invalid_grant(await ag.refresh(third["refresh_token"]))
    assert (await ag.me(third["access_token"])).status_code == 401


async def test_a_token_is_bound_to_its_client_and_scope(backend_ag: Authgate) -> None:
    ag = backend_ag
    _, _, tokens = await signed_in(ag)
    refresh_token = tokens["refresh_token"]
    # An unregistered client id fails client authentication before the token is looked at.
    stranger = await ag.refresh(refresh_token, client_id="another-app")
    assert stranger.status_code == 401
    assert stranger.json()["error"] == "invalid_client"

    broader = await ag.refresh(refresh_token, scope="openid admin")
    assert broader.status_code == 400
    assert broader.json()["error"] == "invalid_scope"

    illegal = await ag.refresh(refresh_token, scope='openid "x"')
    assert illegal.json()["error"] == "invalid_scope"

    narrower = await ag.refresh(refresh_token, client_id="authgate-device", scope="openid")
    assert narrower.status_code == 200, narrower.text
    assert narrower.json()["scope"] == "openid"
    me = await ag.me(narrower.json()["access_token"])
    assert me.status_code == 200


async def test_logout_ends_the_session(backend_ag: Authgate) -> None:
    ag = backend_ag
    _, owner, tokens = await signed_in(ag)
    other = await ag.login(owner.email)
    out = await ag.client.post("/v1/auth/logout", headers=bearer(tokens["access_token"]))
    assert out.status_code == 204
    assert_invalid_grant(await ag.refresh(tokens["refresh_token"]))
    rejected = await ag.me(tokens["access_token"])
    assert rejected.status_code == 401
    assert rejected.json()["error"]["code"] == "invalid_token"
    assert rejected.headers["www-authenticate"].startswith("Bearer")
    # Another session of the same user is untouched.
    assert (await ag.refresh(other["refresh_token"])).status_code == 200


async def test_password_change_ends_the_other_sessions_only(backend_ag: Authgate) -> None:
    ag = backend_ag
    _, owner, current = await signed_in(ag)
    other = await ag.login(owner.email)
    changed = await ag.client.post(
        "/v1/auth/password/change",
        headers=bearer(current["access_token"]),
        json={"current_password": PASSWORD, "new_password": "new-Orbit-8-lantern"},
    )
    assert changed.status_code == 204, changed.text
    assert_invalid_grant(await ag.refresh(other["refresh_token"]))
    assert (await ag.me(other["access_token"])).status_code == 401
    assert (await ag.refresh(current["refresh_token"])).status_code == 200
    assert (await ag.login_response(owner.email, PASSWORD)).status_code == 401
    assert (await ag.login_response(owner.email, "new-Orbit-8-lantern")).status_code == 200


async def test_wrong_current_password_changes_nothing(backend_ag: Authgate) -> None:
    ag = backend_ag
    _, _, current = await signed_in(ag)
    refused = await ag.client.post(
        "/v1/auth/password/change",
        headers=bearer(current["access_token"]),
        json={"current_password": "not-" + PASSWORD, "new_password": "new-Orbit-8-lantern"},
    )
    assert refused.status_code == 401
    assert (await ag.refresh(current["refresh_token"])).status_code == 200


async def test_disabled_user_cannot_refresh(backend_ag: Authgate) -> None:
    ag = backend_ag
    _, owner, tokens = await signed_in(ag)
    await ag.services.accounts.set_disabled(owner.email, True, Actor(None))
    assert_invalid_grant(await ag.refresh(tokens["refresh_token"]))
    assert (await ag.me(tokens["access_token"])).status_code == 401
    # Enabling the user again does not bring the old session back.
    await ag.services.accounts.set_disabled(owner.email, False, Actor(None))
    assert_invalid_grant(await ag.refresh(tokens["refresh_token"]))


async def test_removed_or_denied_member_is_rejected_at_once(backend_ag: Authgate) -> None:
    ag = backend_ag
    org, _, admin_tokens = await signed_in(ag)
    admin = bearer(admin_tokens["access_token"])
    removed = await ag.user(f"removed@{org.slug}.test")
    denied = await ag.user(f"denied@{org.slug}.test")
    await ag.member(org, removed, Role.USER)
    await ag.member(org, denied, Role.MAKER)
    removed_tokens = await ag.login(removed.email)
    denied_tokens = await ag.login(denied.email)

    r = await ag.client.delete(f"/v1/orgs/{org.slug}/members/{removed.id}", headers=admin)
    assert r.status_code == 204
    r = await ag.client.put(
        f"/v1/orgs/{org.slug}/members/{denied.id}/role", headers=admin, json={"role": "DENY"}
    )
    assert r.status_code == 204
    for tokens in (removed_tokens, denied_tokens):
        assert_invalid_grant(await ag.refresh(tokens["refresh_token"]))
        assert (await ag.me(tokens["access_token"])).status_code == 401
    # Restoring the role does not revive the session that DENY ended.
    r = await ag.client.put(
        f"/v1/orgs/{org.slug}/members/{denied.id}/role", headers=admin, json={"role": "USER"}
    )
    assert r.status_code == 204
    assert_invalid_grant(await ag.refresh(denied_tokens["refresh_token"]))


async def test_concurrent_refreshes_never_fork_a_family(backend_ag: Authgate) -> None:
    ag = backend_ag
    _, _, tokens = await signed_in(ag)
    answers = await asyncio.gather(*(ag.refresh(tokens["refresh_token"]) for _ in range(10)))
    statuses = [r.status_code for r in answers]
    assert statuses.count(200) <= 1, statuses
    assert set(statuses) <= {200, 400}, statuses
    for response in answers:
        if response.status_code == 400:
            assert response.json()["error"] == "invalid_grant"
    # Whatever won, the spent token now revokes the family when presented again.
    assert_invalid_grant(await ag.refresh(tokens["refresh_token"]))
    for response in answers:
        if response.status_code == 200:
            assert_invalid_grant(await ag.refresh(response.json()["refresh_token"]))


async def test_idle_session_expires(backend_ag: Authgate) -> None:
    ag = backend_ag
    _, _, tokens = await signed_in(ag)
    ag.clock.advance(13 * DAY)
    kept = await ag.refresh(tokens["refresh_token"])
    assert kept.status_code == 200
    ag.clock.advance(14 * DAY + 1)
    assert_invalid_grant(await ag.refresh(kept.json()["refresh_token"]))


async def test_session_ends_at_its_absolute_lifetime(backend_ag: Authgate) -> None:
    ag = backend_ag
    _, _, tokens = await signed_in(ag)
    refresh_token = tokens["refresh_token"]
    for _ in range(2):  # used every 13 days: never idle
        ag.clock.advance(13 * DAY)
        response = await ag.refresh(refresh_token)
        assert response.status_code == 200
        refresh_token = response.json()["refresh_token"]
    ag.clock.advance(4 * DAY + 1)  # 30 days and a second after sign-in
    assert_invalid_grant(await ag.refresh(refresh_token))


async def test_unknown_and_garbage_refresh_tokens_are_invalid_grant(backend_ag: Authgate) -> None:
    ag = backend_ag
    await signed_in(ag)
    for value in ("nope", unique("x") * 40, "a" * 5000, "\u00e9\u00e8"):
        assert_invalid_grant(await ag.refresh(value))
