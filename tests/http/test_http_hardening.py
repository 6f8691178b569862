"""Hardening: streamed oversized bodies, claims on other domains, clearing settings."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.http.conftest import BASE_URL, Authgate, bearer


async def chunks() -> AsyncIterator[bytes]:
    for _ in range(100):  # 100 KiB, no Content-Length (chunked)
        yield b"x" * 1024


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/oauth/revoke", "application/x-www-form-urlencoded"),
        ("/oauth/introspect", "application/x-www-form-urlencoded"),
        ("/v1/auth/login", "application/json"),
        ("/reset-password", "application/x-www-form-urlencoded"),
    ],
)
async def test_streamed_oversized_body_is_413(ag: Authgate, path: str, content_type: str) -> None:
    transport = httpx.ASGITransport(app=ag.asgi, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.post(path, content=chunks(), headers={"content-type": content_type})
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_an_admin_cannot_claim_another_organizations_domain(ag: Authgate) -> None:
    a, a_owner = await ag.org_with_owner("a")
    b, b_owner = await ag.org_with_owner("b")
    ha = bearer((await ag.login(a_owner.email))["access_token"])
    hb = bearer((await ag.login(b_owner.email))["access_token"])
    domain = f"{b.slug}.test"
    await ag.client.patch(f"/v1/orgs/{b.slug}", headers=hb, json={"domains": [domain]})
    claim = await ag.client.patch(
        f"/v1/orgs/{a.slug}", headers=ha, json={"domains": [domain], "domain_join": "AUTO"}
    )
    assert 400 <= claim.status_code < 500, claim.text


async def test_request_email_can_be_cleared(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    h = bearer((await ag.login(owner.email))["access_token"])
    await ag.client.patch(f"/v1/orgs/{org.slug}", headers=h, json={"request_email": "r@x.test"})
    cleared = await ag.client.patch(f"/v1/orgs/{org.slug}", headers=h, json={"request_email": None})
    assert cleared.json()["request_email"] is None


async def test_an_admin_may_verify_their_own_domain_but_not_a_public_mail_provider(
    ag: Authgate,
) -> None:
    org, owner = await ag.org_with_owner("own")
    h = bearer((await ag.login(owner.email))["access_token"])
    own = owner.email.split("@")[1]
    ok = await ag.client.patch(f"/v1/orgs/{org.slug}", headers=h, json={"domains": [own]})
    assert ok.status_code == 200, ok.text
    assert ok.json()["domains"] == [own]
    public = await ag.client.patch(
        f"/v1/orgs/{org.slug}", headers=h, json={"domains": [own, "gmail.com"]}
    )
    assert public.status_code == 422
    assert "public mail provider" in public.json()["error"]["message"]
    # Dropping a domain is always allowed.
    dropped = await ag.client.patch(f"/v1/orgs/{org.slug}", headers=h, json={"domains": []})
    assert dropped.json()["domains"] == []


async def test_password_sign_in_cannot_borrow_another_clients_id(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner("borrow")
    h = bearer((await ag.login(owner.email))["access_token"])
    created = await ag.client.post(
        f"/v1/orgs/{org.slug}/clients", headers=h, json={"name": "svc", "scopes": "api"}
    )
    service_client = created.json()["client_id"]
    borrowed = await ag.login_response(owner.email, client_id=service_client)
    assert borrowed.status_code == 422
    assert borrowed.json()["error"]["code"] == "validation_failed"
    assert "access_token" not in borrowed.text
