"""Forgotten passwords: one answer for every email, and a reset link that is single use,
expiring, bound to its user and purpose, and ends every session."""

from __future__ import annotations

import httpx

from authgate.identity.deps import Actor
from authgate.identity.models import Organization, Role, User
from tests.http.conftest import PASSWORD, Authgate

NEW = "Reset-pass-3-harbour"


async def forgot(ag: Authgate, email: str) -> httpx.Response:
    return await ag.client.post("/v1/auth/password/forgot", json={"email": email})


async def reset(ag: Authgate, token: str, password: str = NEW) -> httpx.Response:
    return await ag.client.post(
        "/v1/auth/password/reset", json={"token": token, "password": password}
    )


async def member(ag: Authgate) -> tuple[Organization, User]:
    org, _ = await ag.org_with_owner()
    user = await ag.user(f"forgetful@{org.slug}.test", name="Forgetful")
    await ag.member(org, user, Role.USER)
    return org, user


async def test_same_answer_for_unknown_and_known_emails(ag: Authgate) -> None:
    org, user = await member(ag)
    known = await forgot(ag, user.email)
    unknown = await forgot(ag, f"nobody@{org.slug}.test")
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert len(ag.mails(user.email)) == 1
    assert ag.mails(f"nobody@{org.slug}.test") == []
    # Case does not matter for who gets the link.
    assert (await forgot(ag, user.email.upper())).status_code == 202
    assert len(ag.mails(user.email)) == 2


async def test_reset_link_is_single_use_and_ends_every_session(ag: Authgate) -> None:
    _, user = await member(ag)
    sessions = [await ag.login(user.email), await ag.login(user.email)]
    await forgot(ag, user.email)
    token = ag.link_token(user.email, "reset-password")

    done = await reset(ag, token)
    assert done.status_code == 204, done.text
    for tokens in sessions:
        refused = await ag.refresh(tokens["refresh_token"])
        assert refused.status_code == 400
        assert refused.json()["error"] == "invalid_grant"
        assert (await ag.me(tokens["access_token"])).status_code == 401
    assert str(ag.last_mail(user.email)["Subject"]) == "Your authgate password was changed"
    assert (await ag.login_response(user.email, PASSWORD)).status_code == 401
    assert (await ag.login_response(user.email, NEW)).status_code == 200

    again = await reset(ag, token, "Another-pass-4-meadow")
    assert again.status_code == 410
    assert again.json()["error"]["code"] == "gone"
    assert (await ag.login_response(user.email, NEW)).status_code == 200


async def test_reset_link_expires(ag: Authgate) -> None:
    _, user = await member(ag)
    await forgot(ag, user.email)
    token = ag.link_token(user.email, "reset-password")
    ag.clock.advance(3600 + 1)
    assert (await reset(ag, token)).status_code == 410
    assert (await ag.login_response(user.email, PASSWORD)).status_code == 200


async def test_a_newer_link_replaces_the_older(ag: Authgate) -> None:
    _, user = await member(ag)
    await forgot(ag, user.email)
    older = ag.link_token(user.email, "reset-password")
    await forgot(ag, user.email)
    newer = ag.link_token(user.email, "reset-password")
    assert older != newer
    assert (await reset(ag, older)).status_code == 410
    assert (await reset(ag, newer)).status_code == 204


async def test_reset_link_is_bound_to_its_user(ag: Authgate) -> None:
    org, user = await member(ag)
    bystander = await ag.user(f"bystander@{org.slug}.test")
    await ag.member(org, bystander, Role.USER)
    await forgot(ag, user.email)
    token = ag.link_token(user.email, "reset-password")
    bystander_tokens = await ag.login(bystander.email)

    assert (await reset(ag, token)).status_code == 204
    # Only the link's own user changed: the bystander keeps password and session.
    assert (await ag.login_response(bystander.email, NEW)).status_code == 401
    assert (await ag.login_response(bystander.email, PASSWORD)).status_code == 200
    assert (await ag.refresh(bystander_tokens["refresh_token"])).status_code == 200


async def test_a_verification_link_is_not_a_reset_link(ag: Authgate) -> None:
    email = "verify-only@reset.test"
    r = await ag.client.post(
        "/v1/auth/register", json={"email": email, "password": PASSWORD, "display_name": "V"}
    )
    assert r.status_code == 202
    verification = ag.link_token(email, "verify-email")
    assert (await reset(ag, verification)).status_code == 410
    # Nor the other way round, and the refused attempt did not spend the link.
    await forgot(ag, email)
    reset_token = ag.link_token(email, "reset-password")
    verify = await ag.client.post("/v1/auth/verify-email", json={"token": reset_token})
    assert verify.status_code == 410
    verified = await ag.client.post("/v1/auth/verify-email", json={"token": verification})
    assert verified.status_code == 200


async def test_weak_password_does_not_burn_the_reset_link(ag: Authgate) -> None:
    _, user = await member(ag)
    await forgot(ag, user.email)
    token = ag.link_token(user.email, "reset-password")
    for weak in ("password1", "tiny", user.email):
        refused = await reset(ag, token, weak)
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "weak_password"
    too_long = await reset(ag, token, "x" * 2000)
    assert too_long.status_code == 413
    assert too_long.json()["error"]["code"] == "payload_too_large"
    assert (await reset(ag, token)).status_code == 204


async def test_disabled_user_gets_no_reset_link(ag: Authgate) -> None:
    _, user = await member(ag)
    await ag.services.accounts.set_disabled(user.email, True, Actor(None))
    assert (await forgot(ag, user.email)).status_code == 202
    assert ag.mails(user.email) == []


async def test_change_password_applies_the_policy(ag: Authgate) -> None:
    _, user = await member(ag)
    tokens = await ag.login(user.email)
    headers = {"authorization": f"Bearer {tokens['access_token']}"}
    for weak, status in (("password", 422), ("y" * 2000, 413)):
        r = await ag.client.post(
            "/v1/auth/password/change",
            headers=headers,
            json={"current_password": PASSWORD, "new_password": weak},
        )
        assert r.status_code == status, r.text
    assert (await ag.login_response(user.email, PASSWORD)).status_code == 200
    anonymous = await ag.client.post(
        "/v1/auth/password/change", json={"current_password": PASSWORD, "new_password": NEW}
    )
    assert anonymous.status_code == 401
