"""Self-registration, email verification, joining by verified domain (AUTO and MANUAL) and
asking to join by slug."""

from __future__ import annotations

from typing import Any

import httpx

from authgate.identity.models import Organization, Role
from tests.http.conftest import PASSWORD, Authgate, bearer, text_body, unique


async def register(ag: Authgate, email: str, **extra: Any) -> httpx.Response:
    body = {"email": email, "password": PASSWORD, "display_name": "Reg User", **extra}
    return await ag.client.post("/v1/auth/register", json=body)


async def verify(ag: Authgate, token: str, **extra: Any) -> httpx.Response:
    return await ag.client.post("/v1/auth/verify-email", json={"token": token, **extra})


async def domain_org(
    ag: Authgate, mode: str, request_email: str | None = None
) -> tuple[Organization, dict[str, str], str]:
    """An organization that verified its own domain, with ``domain_join`` = ``mode``."""
    org, owner = await ag.org_with_owner()
    domain = f"{org.slug}.test"
    admin = bearer((await ag.login(owner.email))["access_token"])
    patch: dict[str, Any] = {"domains": [domain], "domain_join": mode}
    if request_email:
        patch["request_email"] = request_email
    r = await ag.client.patch(f"/v1/orgs/{org.slug}", headers=admin, json=patch)
    assert r.status_code == 200, r.text
    assert r.json()["domains"] == [domain]
    assert r.json()["domain_join"] == mode
    return org, admin, domain


async def test_same_answer_for_new_and_existing_emails(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    new = await register(ag, f"new@{org.slug}.test")
    existing = await register(ag, owner.email)
    assert new.status_code == existing.status_code == 202
    assert new.content == existing.content
    assert new.json()["status"] == "accepted"
    assert len(ag.mails(f"new@{org.slug}.test")) == 1
    # The owner's account is untouched: the old password still works.
    assert (await ag.login_response(owner.email)).status_code == 200


async def test_registration_refuses_weak_passwords_and_bad_emails(ag: Authgate) -> None:
    weak = await ag.client.post(
        "/v1/auth/register",
        json={"email": "w@reg.test", "password": "12345678", "display_name": "W"},
    )
    assert weak.status_code == 422
    assert weak.json()["error"]["code"] == "weak_password"
    bad = await register(ag, "not-an-address")
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "validation_failed"
    assert ag.mails() == []


async def test_verification_link_is_single_use(ag: Authgate) -> None:
    email = f"single@{unique('reg')}.test"
    assert (await register(ag, email)).status_code == 202
    assert (await ag.login_response(email)).status_code == 403  # in no organization yet
    token = ag.link_token(email, "verify-email")
    first = await verify(ag, token)
    assert first.status_code == 200, first.text
    assert first.json() == {"email": email, "joined": [], "requested": []}
    again = await verify(ag, token)
    assert again.status_code == 410
    assert again.json()["error"]["code"] == "gone"
    assert (await verify(ag, "forged-" + token)).status_code == 410


async def test_verification_link_expires(ag: Authgate) -> None:
    email = f"late@{unique('reg')}.test"
    await register(ag, email)
    token = ag.link_token(email, "verify-email")
    ag.clock.advance(86400 + 1)
    assert (await verify(ag, token)).status_code == 410


async def test_auto_domain_join_admits_on_verification(ag: Authgate) -> None:
    org, admin, domain = await domain_org(ag, "AUTO")
    email = f"joiner@{domain}"
    await register(ag, email)
    verified = await verify(ag, ag.link_token(email, "verify-email"))
    assert verified.status_code == 200, verified.text
    assert verified.json()["joined"] == [org.slug]
    tokens = await ag.login(email)
    assert tokens["organization"] == org.slug
    assert (await ag.me(tokens["access_token"])).json()["roles"] == ["USER"]
    assert str(ag.last_mail(email)["Subject"]).startswith("Welcome to")
    members = (await ag.client.get(f"/v1/orgs/{org.slug}/members", headers=admin)).json()
    assert email in {m["email"] for m in members}


async def test_other_domains_and_off_organizations_admit_nobody(ag: Authgate) -> None:
    org, _, domain = await domain_org(ag, "OFF")
    email = f"someone@{domain}"
    await register(ag, email)
    verified = await verify(ag, ag.link_token(email, "verify-email"))
    assert verified.json() == {"email": email, "joined": [], "requested": []}
    outsider = f"someone@elsewhere-{org.slug}.test"
    await register(ag, outsider)
    assert (await verify(ag, ag.link_token(outsider, "verify-email"))).json()["joined"] == []


async def test_manual_domain_join_files_a_request_an_admin_approves(ag: Authgate) -> None:
    requests_to = f"requests@{unique('inbox')}.test"
    org, admin, domain = await domain_org(ag, "MANUAL", request_email=requests_to)
    email = f"hopeful@{domain}"
    await register(ag, email)
    verified = await verify(ag, ag.link_token(email, "verify-email"))
    assert verified.json()["requested"] == [org.slug]
    assert verified.json()["joined"] == []

    pending = await ag.login_response(email)
    assert pending.status_code == 403
    assert pending.json()["error"]["code"] == "no_active_membership"
    received = ag.last_mail(requests_to)
    assert "asks to join" in str(received["Subject"])
    assert email in text_body(received)
    assert len(ag.mails(email)) == 2  # the verification link, then "request submitted"

    listed = await ag.client.get(f"/v1/orgs/{org.slug}/join-requests", headers=admin)
    assert listed.status_code == 200
    [request] = listed.json()
    assert request["email"] == email
    assert request["status"] == "PENDING"
    decided = await ag.client.post(
        f"/v1/orgs/{org.slug}/join-requests/{request['id']}/decision",
        headers=admin,
        json={"approve": True},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "APPROVED"
    assert str(ag.last_mail(email)["Subject"]).endswith("was approved")
    assert (await ag.login(email))["organization"] == org.slug
    # Decided once: a second decision conflicts, and the pending list is empty.
    again = await ag.client.post(
        f"/v1/orgs/{org.slug}/join-requests/{request['id']}/decision",
        headers=admin,
        json={"approve": False},
    )
    assert again.status_code == 409
    assert (await ag.client.get(f"/v1/orgs/{org.slug}/join-requests", headers=admin)).json() == []


async def test_denied_request_is_emailed_and_grants_nothing(ag: Authgate) -> None:
    org, admin, domain = await domain_org(ag, "MANUAL")
    email = f"refused@{domain}"
    await register(ag, email)
    await verify(ag, ag.link_token(email, "verify-email"))
    [request] = (await ag.client.get(f"/v1/orgs/{org.slug}/join-requests", headers=admin)).json()
    decided = await ag.client.post(
        f"/v1/orgs/{org.slug}/join-requests/{request['id']}/decision",
        headers=admin,
        json={"approve": False},
    )
    assert decided.json()["status"] == "DENIED"
    message = ag.last_mail(email)
    assert str(message["Subject"]).endswith("was denied")
    assert "approved" not in text_body(message)
    assert (await ag.login_response(email)).status_code == 403
    history = await ag.client.get(
        f"/v1/orgs/{org.slug}/join-requests", headers=admin, params={"status": "DENIED"}
    )
    assert [r["email"] for r in history.json()] == [email]


async def test_verification_can_ask_to_join_a_named_organization(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    email = f"named@{unique('reg')}.test"
    await register(ag, email, organization=org.slug)
    token = ag.link_token(email, "verify-email")
    verified = await verify(ag, token, organization=org.slug)
    assert verified.json()["requested"] == [org.slug]
    admin = bearer((await ag.login(owner.email))["access_token"])
    listed = (await ag.client.get(f"/v1/orgs/{org.slug}/join-requests", headers=admin)).json()
    assert [r["email"] for r in listed] == [email]


async def test_signed_in_user_asks_to_join_by_slug(ag: Authgate) -> None:
    home, _ = await ag.org_with_owner("home")
    target, target_owner = await ag.org_with_owner("target")
    user = await ag.user(f"mover@{home.slug}.test")
    await ag.member(home, user, Role.USER)
    headers = bearer((await ag.login(user.email))["access_token"])

    filed = await ag.client.post(
        "/v1/join-requests", headers=headers, json={"organization": target.slug.upper()}
    )
    assert filed.status_code == 201, filed.text
    assert filed.json()["organization"] == target.slug
    assert filed.json()["status"] == "PENDING"
    duplicate = await ag.client.post(
        "/v1/join-requests", headers=headers, json={"organization": target.slug}
    )
    assert duplicate.status_code == 409
    member_already = await ag.client.post(
        "/v1/join-requests", headers=headers, json={"organization": home.slug}
    )
    assert member_already.status_code == 409
    missing = await ag.client.post(
        "/v1/join-requests", headers=headers, json={"organization": "no-such-org-x"}
    )
    assert missing.status_code == 404
    anonymous = await ag.client.post("/v1/join-requests", json={"organization": target.slug})
    assert anonymous.status_code == 401

    admin = bearer((await ag.login(target_owner.email))["access_token"])
    [request] = (await ag.client.get(f"/v1/orgs/{target.slug}/join-requests", headers=admin)).json()
    assert request["user_id"] == user.id
