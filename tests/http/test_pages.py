"""The pages behind emailed links: a GET spends nothing, a POST acts, errors re-show the form."""

from __future__ import annotations

from tests.http.conftest import PASSWORD, Authgate, bearer

NEW_PASSWORD = "quartz-Harbor-9-meadow"


async def test_reset_page_changes_the_password_once(ag: Authgate) -> None:
    _, owner = await ag.org_with_owner("pages")
    await ag.client.post("/v1/auth/password/forgot", json={"email": owner.email})
    token = ag.link_token(owner.email, "reset-password")

    shown = await ag.client.get(f"/reset-password?token={token}")
    assert shown.status_code == 200
    assert shown.headers["referrer-policy"] == "no-referrer"
    assert 'name="password"' in shown.text

    weak = await ag.client.post("/reset-password", data={"token": token, "password": "password1"})
    assert weak.status_code == 422
    assert 'name="password"' in weak.text  # the form again, the link still good

    done = await ag.client.post("/reset-password", data={"token": token, "password": NEW_PASSWORD})
    assert done.status_code == 200
    assert "Password changed" in done.text
    assert (await ag.login_response(owner.email, NEW_PASSWORD)).status_code == 200
    assert (await ag.login_response(owner.email, PASSWORD)).status_code == 401

    again = await ag.client.post("/reset-password", data={"token": token, "password": NEW_PASSWORD})
    assert again.status_code == 410
    assert 'name="password"' not in again.text  # a spent link offers no form


async def test_invite_page_accepts_and_the_invitee_signs_in(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner("pages")
    h = bearer((await ag.login(owner.email))["access_token"])
    invitee = f"guest@{org.slug}.test"
    created = await ag.client.post(
        f"/v1/orgs/{org.slug}/invites", headers=h, json={"email": invitee}
    )
    assert created.status_code == 201
    token = ag.link_token(invitee, "accept-invite")

    assert (await ag.client.get(f"/accept-invite?token={token}")).status_code == 200
    accepted = await ag.client.post(
        "/accept-invite", data={"token": token, "password": NEW_PASSWORD, "display_name": "Guest"}
    )
    assert accepted.status_code == 200
    assert org.name in accepted.text
    assert (await ag.login_response(invitee, NEW_PASSWORD)).status_code == 200


async def test_verify_page_get_spends_nothing_and_post_verifies(ag: Authgate) -> None:
    email = "newcomer@pages.test"
    await ag.client.post(
        "/v1/auth/register",
        json={"email": email, "password": NEW_PASSWORD, "display_name": "New"},
    )
    token = ag.link_token(email, "verify-email")
    for _ in range(2):  # a mail scanner following the link twice
        assert (await ag.client.get(f"/verify-email?token={token}")).status_code == 200
    confirmed = await ag.client.post("/verify-email", data={"token": token})
    assert confirmed.status_code == 200
    assert "confirmed" in confirmed.text
    assert (await ag.client.post("/verify-email", data={"token": token})).status_code == 410
