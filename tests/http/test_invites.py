"""Invitations: the emailed link is single use, expires, dies on revoke and resend, never
takes over an existing account, and only OWNER and ADMIN send them."""

from __future__ import annotations

from typing import Any

import httpx

from authgate.identity.models import Organization, Role, User
from tests.http.conftest import PASSWORD, Authgate, bearer

NEW_PASSWORD = "Invitee-pass-5-kettle"


async def admin_of(ag: Authgate) -> tuple[Organization, User, dict[str, str]]:
    org, owner = await ag.org_with_owner()
    tokens = await ag.login(owner.email)
    return org, owner, bearer(tokens["access_token"])


async def invite(
    ag: Authgate, org: Organization, headers: dict[str, str], email: str, role: str = "USER"
) -> dict[str, Any]:
    response = await ag.client.post(
        f"/v1/orgs/{org.slug}/invites", headers=headers, json={"email": email, "role": role}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def accept(ag: Authgate, token: str, password: str = NEW_PASSWORD) -> httpx.Response:
    return await ag.client.post(
        "/v1/auth/invites/accept",
        json={"token": token, "password": password, "display_name": "Bea"},
    )


def assert_gone(response: httpx.Response) -> None:
    assert response.status_code == 410, response.text
    assert response.json()["error"]["code"] == "gone"


async def test_invite_is_emailed_and_accepting_signs_in(ag: Authgate) -> None:
    org, _, admin = await admin_of(ag)
    email = f"bea@{org.slug}.test"
    created = await invite(ag, org, admin, email, "MAKER")
    assert created["status"] == "pending"
    assert created["role"] == "MAKER"
    fields = {"id", "email", "role", "status", "created_at", "expires_at", "sent_count"}
    assert set(created) == fields

    message = ag.last_mail(email)
    assert org.slug in str(message["Subject"]) or org.name in str(message["Subject"])
    token = ag.link_token(email, "accept-invite")
    assert token not in created.values()

    accepted = await accept(ag, token)
    assert accepted.status_code == 200, accepted.text
    assert accepted.headers["cache-control"] == "no-store"
    body = accepted.json()
    assert body["organization"] == org.slug
    me = (await ag.me(body["access_token"])).json()
    assert me["email"] == email
    assert me["roles"] == ["MAKER"]
    assert me["email_verified"] is True
    assert (await ag.refresh(body["refresh_token"])).status_code == 200
    assert (await ag.login_response(email, NEW_PASSWORD)).status_code == 200

    assert_gone(await accept(ag, token))
    listed = (await ag.client.get(f"/v1/orgs/{org.slug}/invites", headers=admin)).json()
    assert [(i["email"], i["status"]) for i in listed] == [(email, "accepted")]


async def test_a_weak_password_does_not_burn_the_link(ag: Authgate) -> None:
    org, _, admin = await admin_of(ag)
    email = f"weakling-bea@{org.slug}.test"
    await invite(ag, org, admin, email)
    token = ag.link_token(email, "accept-invite")
    # common, too short, the email's local part, the email itself
    for weak in ("password", "Short1!", "weakling-bea", email.upper()):
        refused = await accept(ag, token, weak)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "weak_password"
    assert (await accept(ag, token)).status_code == 200


async def test_revoked_invite_link_is_gone(ag: Authgate) -> None:
    org, _, admin = await admin_of(ag)
    email = f"rev@{org.slug}.test"
    created = await invite(ag, org, admin, email)
    token = ag.link_token(email, "accept-invite")
    r = await ag.client.delete(f"/v1/orgs/{org.slug}/invites/{created['id']}", headers=admin)
    assert r.status_code == 204
    assert_gone(await accept(ag, token))
    again = await ag.client.delete(f"/v1/orgs/{org.slug}/invites/{created['id']}", headers=admin)
    assert again.status_code == 409
    listed = (await ag.client.get(f"/v1/orgs/{org.slug}/invites", headers=admin)).json()
    assert [i["status"] for i in listed] == ["revoked"]
    assert (await ag.login_response(email, NEW_PASSWORD)).status_code == 401


async def test_resend_replaces_the_link(ag: Authgate) -> None:
    org, _, admin = await admin_of(ag)
    email = f"re@{org.slug}.test"
    created = await invite(ag, org, admin, email)
    old = ag.link_token(email, "accept-invite")
    resent = await ag.client.post(
        f"/v1/orgs/{org.slug}/invites/{created['id']}/resend", headers=admin
    )
    assert resent.status_code == 200, resent.text
    assert resent.json()["sent_count"] == 2
    assert len(ag.mails(email)) == 2
    new = ag.link_token(email, "accept-invite")
    assert new != old
    assert_gone(await accept(ag, old))
    assert (await accept(ag, new)).status_code == 200


async def test_expired_invite_is_gone_and_resend_revives_it(ag: Authgate) -> None:
    org, _, admin = await admin_of(ag)
    email = f"late@{org.slug}.test"
    created = await invite(ag, org, admin, email)
    token = ag.link_token(email, "accept-invite")
    ag.clock.advance(7 * 86400 + 1)
    assert_gone(await accept(ag, token))
    # The admin's session is younger than its idle limit; a fresh link works.
    admin = bearer((await ag.login(f"owner@{org.slug}.test"))["access_token"])
    resent = await ag.client.post(
        f"/v1/orgs/{org.slug}/invites/{created['id']}/resend", headers=admin
    )
    assert resent.status_code == 200
    assert (await accept(ag, ag.link_token(email, "accept-invite"))).status_code == 200


async def test_existing_account_must_prove_its_password(ag: Authgate) -> None:
    org, _, admin = await admin_of(ag)
    other, _ = await ag.org_with_owner("other")
    existing = await ag.user(f"dora@{other.slug}.test", name="Dora")
    await ag.member(other, existing, Role.USER)
    await invite(ag, org, admin, existing.email, "ADMIN")
    token = ag.link_token(existing.email, "accept-invite")

    refused = await accept(ag, token, "Takeover-attempt-99")
    assert refused.status_code == 401
    # The failed attempt neither changed the password nor spent the link.
    assert (await ag.login_response(existing.email, "Takeover-attempt-99")).status_code == 401
    accepted = await accept(ag, token, PASSWORD)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["organization"] == org.slug
    me = (await ag.me(accepted.json()["access_token"])).json()
    assert me["roles"] == ["ADMIN"]
    assert {m["organization"] for m in me["memberships"]} == {org.slug, other.slug}


async def test_inviting_a_member_again_conflicts(ag: Authgate) -> None:
    org, owner, admin = await admin_of(ag)
    r = await ag.client.post(
        f"/v1/orgs/{org.slug}/invites", headers=admin, json={"email": owner.email}
    )
    assert r.status_code == 409
    deny = await ag.client.post(
        f"/v1/orgs/{org.slug}/invites", headers=admin, json={"email": "x@y.test", "role": "DENY"}
    )
    assert deny.status_code == 422


async def test_list_shows_every_status_newest_first(ag: Authgate) -> None:
    org, _, admin = await admin_of(ag)
    emails = [f"{name}@{org.slug}.test" for name in ("ann", "ben", "cat")]
    ids = [(await invite(ag, org, admin, e))["id"] for e in emails]
    assert (await accept(ag, ag.link_token(emails[0], "accept-invite"))).status_code == 200
    await ag.client.delete(f"/v1/orgs/{org.slug}/invites/{ids[1]}", headers=admin)
    listed = (await ag.client.get(f"/v1/orgs/{org.slug}/invites", headers=admin)).json()
    assert {i["email"]: i["status"] for i in listed} == {
        emails[0]: "accepted",
        emails[1]: "revoked",
        emails[2]: "pending",
    }
    assert "token" not in str(listed).lower()


async def test_makers_and_users_cannot_invite(ag: Authgate) -> None:
    org, _, _ = await admin_of(ag)
    for role in (Role.MAKER, Role.USER):
        member = await ag.user(f"{role.value.lower()}@{org.slug}.test")
        await ag.member(org, member, role)
        headers = bearer((await ag.login(member.email))["access_token"])
        r = await ag.client.post(
            f"/v1/orgs/{org.slug}/invites", headers=headers, json={"email": "z@z.test"}
        )
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "forbidden"
        listed = await ag.client.get(f"/v1/orgs/{org.slug}/invites", headers=headers)
        assert listed.status_code == 403
    assert ag.mails("z@z.test") == []


async def test_only_an_owner_invites_an_owner(ag: Authgate) -> None:
    org, _, owner_headers = await admin_of(ag)
    admin = await ag.user(f"adm@{org.slug}.test")
    await ag.member(org, admin, Role.ADMIN)
    headers = bearer((await ag.login(admin.email))["access_token"])
    r = await ag.client.post(
        f"/v1/orgs/{org.slug}/invites", headers=headers, json={"email": "o@o.test", "role": "OWNER"}
    )
    assert r.status_code in (403, 422)
    ok = await ag.client.post(
        f"/v1/orgs/{org.slug}/invites",
        headers=owner_headers,
        json={"email": "o@o.test", "role": "OWNER"},
    )
    assert ok.status_code == 201
