"""Registered apps through the admin API and dynamic registration (RFC 7591): the secret shown
once and stored only as a keyed hash, replacement and re-keying, tenancy (404 across
organizations, 403 for MAKER and USER), refusals that name the field, the audit trail, and
registration turned off, without a token, with a non-admin's token and with an admin's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from authgate.errors import InvalidClient
from authgate.identity.models import Organization, Role
from authgate.provider.clients import ClientRegistry
from tests.http.conftest import Authgate, Start, bearer, unique

WEB = {
    "name": "Planner",
    "redirect_uris": ["https://planner.example.com/callback"],
    "grant_types": ["authorization_code", "refresh_token"],
}
VIEW_FIELDS = {
    "client_id", "name", "client_type", "application_type", "redirect_uris",
    "post_logout_redirect_uris", "grant_types", "scopes", "token_endpoint_auth_method",
    "id_token_signed_response_alg", "logo_uri", "disabled", "dynamic", "created_at",
    "updated_at",
}  # fmt: skip
SETTING = "AUTHGATE_PROVIDER_DYNAMIC_REGISTRATION"


def registry(ag: Authgate) -> ClientRegistry:
    assert ag.services.oauth_clients is not None
    return ag.services.oauth_clients


async def admin(ag: Authgate, prefix: str = "apps") -> tuple[Organization, dict[str, str]]:
    org, owner = await ag.org_with_owner(prefix)
    return org, bearer((await ag.login(owner.email))["access_token"])


async def member(ag: Authgate, org: Organization, role: Role) -> dict[str, str]:
    person = await ag.user(f"{role.value.lower()}-{unique('m')}@{org.slug}.test")
    await ag.member(org, person, role)
    return bearer((await ag.login(person.email))["access_token"])


async def create(
    ag: Authgate, org: Organization, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    response = await ag.client.post(
        f"/v1/orgs/{org.slug}/oauth-clients", json={**WEB, **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created: dict[str, Any] = response.json()
    return created


def database_bytes(ag: Authgate) -> bytes:
    return b"".join(path.read_bytes() for path in Path(ag.data_dir).glob("*.db*"))


async def test_secret_is_shown_once_stored_hashed_and_never_listed(ag: Authgate) -> None:
    org, headers = await admin(ag)
    created = await create(ag, org, headers, logo_uri="https://planner.example.com/logo.png")
    secret = created.pop("client_secret")
    assert created["client_id"].startswith("app_")
    assert len(secret) >= 43  # 256 bits, base64url
    assert set(created) == VIEW_FIELDS
    assert created["client_type"] == "confidential"
    assert created["token_endpoint_auth_method"] == "client_secret_basic"
    assert created["scopes"] == ["openid", "profile", "email", "offline_access"]
    assert created["id_token_signed_response_alg"] == "RS256"
    assert created["dynamic"] is False

    listed = await ag.client.get(f"/v1/orgs/{org.slug}/oauth-clients", headers=headers)
    shown = await ag.client.get(
        f"/v1/orgs/{org.slug}/oauth-clients/{created['client_id']}", headers=headers
    )
    assert listed.status_code == shown.status_code == 200
    assert listed.json() == [created]
    assert shown.json() == created

    stored = await ag.services.deps.store.oauth_clients.get(created["client_id"])  # type: ignore[attr-defined]
    assert stored.secret_hash == ag.services.deps.keyed.digest(secret) != secret
    # Neither the secret nor its hash in any later response, nor the secret on disk.
    later = " ".join(r.text for r in ag.responses[ag.responses.index(listed) :])
    assert secret not in later
    assert stored.secret_hash not in later
    assert secret.encode() not in database_bytes(ag)
    assert await registry(ag).authenticate(created["client_id"], secret) == stored


async def test_a_public_native_app_gets_no_secret(ag: Authgate) -> None:
    org, headers = await admin(ag)
    created = await create(
        ag,
        org,
        headers,
        application_type="native",
        token_endpoint_auth_method="none",
        redirect_uris=["http://127.0.0.1/callback", "com.example.planner:/callback"],
    )
    assert created["client_secret"] is None
    assert created["client_type"] == "public"
    found = await registry(ag).authenticate(created["client_id"], None)
    assert found.is_public
    with pytest.raises(InvalidClient):
        await registry(ag).authenticate(created["client_id"], "a-secret-it-never-had")
    rotate = await ag.client.post(
        f"/v1/orgs/{org.slug}/oauth-clients/{created['client_id']}/secret", headers=headers
    )
    assert rotate.status_code == 422
    assert "public client has no secret" in rotate.json()["error"]["message"]


async def test_replacing_keeps_the_secret_and_switching_type_adds_or_drops_it(
    ag: Authgate,
) -> None:
    org, headers = await admin(ag)
    created = await create(ag, org, headers)
    url = f"/v1/orgs/{org.slug}/oauth-clients/{created['client_id']}"
    renamed = await ag.client.put(url, json={**WEB, "name": "Planner 2"}, headers=headers)
    assert renamed.status_code == 200, renamed.text
    assert renamed.headers["cache-control"] == "no-store"
    assert renamed.json()["name"] == "Planner 2"
    assert renamed.json()["client_secret"] is None
    assert renamed.json()["created_at"] == created["created_at"]
    kept = await registry(ag).authenticate(created["client_id"], created["client_secret"])
    assert kept.name == "Planner 2"  # the registry's cache saw the change at once

    public = await ag.client.put(
        url, json={**WEB, "token_endpoint_auth_method": "none"}, headers=headers
    )
    assert public.json()["client_type"] == "public"
    with pytest.raises(InvalidClient):
        await registry(ag).authenticate(created["client_id"], created["client_secret"])
    again = await ag.client.put(url, json=WEB, headers=headers)
    new_secret = again.json()["client_secret"]
    assert new_secret
    assert new_secret != created["client_secret"]
    assert (await registry(ag).authenticate(created["client_id"], new_secret)).name == "Planner"


async def test_rotation_replaces_the_secret(ag: Authgate) -> None:
    org, headers = await admin(ag)
    created = await create(ag, org, headers)
    rotated = await ag.client.post(
        f"/v1/orgs/{org.slug}/oauth-clients/{created['client_id']}/secret", headers=headers
    )
    assert rotated.status_code == 200
    assert rotated.headers["cache-control"] == "no-store"
    secret = rotated.json()["client_secret"]
    assert secret != created["client_secret"]
    assert await registry(ag).authenticate(created["client_id"], secret)
    with pytest.raises(InvalidClient):
        await registry(ag).authenticate(created["client_id"], created["client_secret"])


async def test_delete_and_disable_stop_the_app(ag: Authgate) -> None:
    org, headers = await admin(ag)
    gone, off = await create(ag, org, headers), await create(ag, org, headers, name="Off")
    url = f"/v1/orgs/{org.slug}/oauth-clients/"
    disabled = await ag.client.put(
        url + off["client_id"], json={**WEB, "disabled": True}, headers=headers
    )
    assert disabled.json()["disabled"] is True
    assert await registry(ag).find(off["client_id"]) is None
    with pytest.raises(InvalidClient):
        await registry(ag).authenticate(off["client_id"], off["client_secret"])

    deleted = await ag.client.delete(url + gone["client_id"], headers=headers)
    assert deleted.status_code == 204
    assert (await ag.client.get(url + gone["client_id"], headers=headers)).status_code == 404
    assert (await ag.client.delete(url + gone["client_id"], headers=headers)).status_code == 404
    assert await registry(ag).find(gone["client_id"]) is None
    listed = await ag.client.get(url.rstrip("/"), headers=headers)
    assert [c["client_id"] for c in listed.json()] == [off["client_id"]]


async def test_other_organizations_get_404_and_makers_and_users_403(ag: Authgate) -> None:
    org, headers = await admin(ag)
    created = await create(ag, org, headers)
    other, other_headers = await admin(ag, "rival")
    client = created["client_id"]
    for slug in (org.slug, other.slug):
        base = f"/v1/orgs/{slug}/oauth-clients"
        for method, path, body in (
            ("GET", f"{base}/{client}", None),
            ("PUT", f"{base}/{client}", WEB),
            ("DELETE", f"{base}/{client}", None),
            ("POST", f"{base}/{client}/secret", None),
        ):
            answer = await ag.client.request(method, path, json=body, headers=other_headers)
            assert answer.status_code == 404, (method, path, answer.text)
    assert (
        await ag.client.get(f"/v1/orgs/{org.slug}/oauth-clients", headers=other_headers)
    ).status_code == 404
    assert (
        await ag.client.get(f"/v1/orgs/{other.slug}/oauth-clients", headers=other_headers)
    ).json() == []

    for role in (Role.MAKER, Role.USER):
        member_headers = await member(ag, org, role)
        base = f"/v1/orgs/{org.slug}/oauth-clients"
        for method, path, body in (
            ("POST", base, WEB),
            ("GET", base, None),
            ("GET", f"{base}/{client}", None),
            ("PUT", f"{base}/{client}", WEB),
            ("DELETE", f"{base}/{client}", None),
            ("POST", f"{base}/{client}/secret", None),
        ):
            answer = await ag.client.request(method, path, json=body, headers=member_headers)
            assert answer.status_code == 403, (role, method, path, answer.text)
            assert answer.json()["error"]["code"] == "forbidden"
    assert (await registry(ag).authenticate(client, created["client_secret"])).name == "Planner"


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"redirect_uris": ["http://planner.example.com/cb"]}, "redirect_uris", "not loopback"),
        ({"redirect_uris": ["https://planner.example.com/cb#x"]}, "redirect_uris", "fragment"),
        ({"redirect_uris": ["https://u:p@planner.example.com/cb"]}, "redirect_uris", "user"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "redirect_uris", "javascript"),
        ({"redirect_uris": ["https://*.example.com/cb"]}, "redirect_uris", "wildcard"),
        ({"redirect_uris": []}, "redirect_uris", "at least one redirect URI"),
        ({"post_logout_redirect_uris": ["data:text/html,x"]}, "post_logout_redirect_uris", "data"),
        ({"scopes": ["openid", "admin"]}, "scopes", "'admin' is not offered"),
        ({"grant_types": ["refresh_token"]}, "grant_types", "refresh_token needs"),
        (
            {"grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"},
            "grant_types",
            "public client cannot use client_credentials",
        ),
        (
            {"client_type": "public", "token_endpoint_auth_method": "client_secret_post"},
            "token_endpoint_auth_method",
            "public client",
        ),
        ({"id_token_signed_response_alg": "HS256"}, "id_token_signed_response_alg", "RS256"),
        ({"logo_uri": "http://planner.example.com/logo.png"}, "logo_uri", "https"),
        ({"name": "  \u0007 "}, "name", "printable"),
    ],
)
async def test_refusals_name_the_field_and_the_fix(
    ag: Authgate, change: dict[str, Any], field: str, says: str
) -> None:
    org, headers = await admin(ag)
    response = await ag.client.post(
        f"/v1/orgs/{org.slug}/oauth-clients", json={**WEB, **change}, headers=headers
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["message"].startswith(f"{field}: ")
    assert says in error["message"]
    assert error["details"]["field"] == field
    listed = await ag.client.get(f"/v1/orgs/{org.slug}/oauth-clients", headers=headers)
    assert listed.json() == []


async def test_bad_bodies_get_a_4xx(ag: Authgate) -> None:
    org, headers = await admin(ag)
    url = f"/v1/orgs/{org.slug}/oauth-clients"
    bodies: list[Any] = [
        {**WEB, "grant_types": ["implicit"]},
        {**WEB, "grant_types": ["password"]},
        {**WEB, "unknown_field": 1},
        {**WEB, "redirect_uris": "https://planner.example.com/callback"},
        {**WEB, "redirect_uris": ["https://a.example/" + "x" * 2100]},
        {**WEB, "redirect_uris": [f"https://a.example/{i}" for i in range(21)]},
        {"redirect_uris": WEB["redirect_uris"]},
        [],
        "x",
    ]
    for body in bodies:
        response = await ag.client.post(url, json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
    assert (await ag.client.get(url, headers=headers)).json() == []


async def test_every_change_is_audited_without_the_secret(ag: Authgate) -> None:
    org, headers = await admin(ag)
    created = await create(ag, org, headers)
    url = f"/v1/orgs/{org.slug}/oauth-clients/{created['client_id']}"
    await ag.client.put(url, json=WEB, headers=headers)
    rotated = (await ag.client.post(url + "/secret", headers=headers)).json()["client_secret"]
    await ag.client.delete(url, headers=headers)
    audit = await ag.client.get(f"/v1/orgs/{org.slug}/audit", headers=headers)
    events = [e for e in audit.json() if e["action"].startswith("oauth_client.")]
    assert [e["action"] for e in reversed(events)] == [
        "oauth_client.create",
        "oauth_client.update",
        "oauth_client.rotate",
        "oauth_client.delete",
    ]
    assert {e["subject"] for e in events} == {created["client_id"]}
    for secret in (created["client_secret"], rotated):
        assert secret not in audit.text
        assert ag.services.deps.keyed.digest(secret) not in audit.text


# --- dynamic client registration (RFC 7591) ----------------------------------------------


async def test_registration_is_off_by_default_and_says_how_to_turn_it_on(ag: Authgate) -> None:
    _, headers = await admin(ag)
    response = await ag.client.post("/oauth/register", json=_dcr(), headers=headers)
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "not_found"
    assert SETTING in body["error_description"]


def _dcr(**changes: Any) -> dict[str, Any]:
    return {
        "client_name": "Planner",
        "redirect_uris": ["https://planner.example.com/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "scope": "openid email offline_access",
        "software_id": "ignored-4711",
        **changes,
    }


async def test_an_admins_token_registers_an_app_in_its_organization(start: Start) -> None:
    async with start(provider_dynamic_registration=True) as ag:
        org, headers = await admin(ag)
        response = await ag.client.post("/oauth/register", json=_dcr(), headers=headers)
        assert response.status_code == 201, response.text
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body["client_id"].startswith("app_")
        assert body["client_secret_expires_at"] == 0
        assert abs(body["client_id_issued_at"] - ag.clock().timestamp()) < 60
        assert body["token_endpoint_auth_method"] == "client_secret_basic"
        assert body["response_types"] == ["code"]
        assert body["scope"] == "openid email offline_access"
        assert body["redirect_uris"] == ["https://planner.example.com/callback"]
        assert "software_id" not in body
        client = await registry(ag).authenticate(body["client_id"], body["client_secret"])
        assert client.org_id == org.id
        assert client.dynamic
        assert client.name == "Planner"
        listed = await ag.client.get(f"/v1/orgs/{org.slug}/oauth-clients", headers=headers)
        assert [(c["client_id"], c["dynamic"]) for c in listed.json()] == [
            (body["client_id"], True)
        ]
        assert body["client_secret"] not in listed.text

        public = await ag.client.post(
            "/oauth/register",
            json={
                "redirect_uris": ["http://127.0.0.1/cb"],
                "token_endpoint_auth_method": "none",
                "application_type": "native",
            },
            headers=headers,
        )
        assert public.status_code == 201, public.text
        registered = public.json()
        assert "client_secret" not in registered
        assert "client_secret_expires_at" not in registered
        assert registered["client_name"] == registered["client_id"]
        assert registered["grant_types"] == ["authorization_code"]
        assert registered["scope"] == "openid profile email"


async def test_registration_needs_an_admins_token(start: Start) -> None:
    async with start(provider_dynamic_registration=True) as ag:
        org, _ = await admin(ag)
        missing = await ag.client.post("/oauth/register", json=_dcr())
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"].startswith("Bearer")
        assert set(missing.json()) == {"error", "error_description"}
        forged = await ag.client.post("/oauth/register", json=_dcr(), headers=bearer("x.y.z"))
        assert forged.status_code == 401
        assert forged.json()["error"] == "invalid_token"
        for role in (Role.MAKER, Role.USER):
            answer = await ag.client.post(
                "/oauth/register", json=_dcr(), headers=await member(ag, org, role)
            )
            assert answer.status_code == 403, answer.text
            assert answer.json()["error"] == "insufficient_scope"
            assert "OWNER or ADMIN" in answer.json()["error_description"]
            assert 'error="insufficient_scope"' in answer.headers["www-authenticate"]
        assert await ag.services.deps.store.oauth_clients.list_for_org(org.id) == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("metadata", "error", "says"),
    [
        (
            _dcr(redirect_uris=["http://planner.example.com/cb"]),
            "invalid_redirect_uri",
            "redirect_uris",
        ),
        (
            _dcr(redirect_uris=["https://planner.example.com/cb#f"]),
            "invalid_redirect_uri",
            "fragment",
        ),
        (_dcr(redirect_uris="https://planner.example.com/cb"), "invalid_redirect_uri", "array"),
        (_dcr(redirect_uris=[]), "invalid_redirect_uri", "at least one"),
        (_dcr(post_logout_redirect_uris=["javascript:x"]), "invalid_redirect_uri", "javascript"),
        (_dcr(scope="openid admin"), "invalid_client_metadata", "scope: 'admin'"),
        (_dcr(client_name=""), "invalid_client_metadata", "client_name"),
        (_dcr(client_name=7), "invalid_client_metadata", "client_name must be a string"),
        (_dcr(grant_types=["implicit"]), "invalid_client_metadata", "grant_types"),
        (_dcr(response_types=["token"]), "invalid_client_metadata", "response_types"),
        (
            _dcr(token_endpoint_auth_method="private_key_jwt"),
            "invalid_client_metadata",
            "private_key_jwt",
        ),
        (_dcr(id_token_signed_response_alg="none"), "invalid_client_metadata", "RS256"),
        (_dcr(application_type="tv"), "invalid_client_metadata", "application_type"),
        ([], "invalid_client_metadata", "JSON object"),
    ],
)
async def test_registration_refusals_are_rfc7591_errors(
    start: Start, metadata: Any, error: str, says: str
) -> None:
    async with start(provider_dynamic_registration=True) as ag:
        org, headers = await admin(ag)
        response = await ag.client.post("/oauth/register", json=metadata, headers=headers)
        assert response.status_code == 400, response.text
        assert response.json()["error"] == error
        assert says in response.json()["error_description"]
        assert await ag.services.deps.store.oauth_clients.list_for_org(org.id) == []  # type: ignore[attr-defined]


async def test_registration_refuses_a_body_that_is_not_json(start: Start) -> None:
    async with start(provider_dynamic_registration=True) as ag:
        _, headers = await admin(ag)
        for content in (b"{", b"\xff\xfe", b"", b"[" * 60_000, b"null", b'"x"'):
            response = await ag.client.post(
                "/oauth/register",
                content=content,
                headers={**headers, "content-type": "application/json"},
            )
            assert response.status_code == 400, response.text
            assert response.json()["error"] == "invalid_client_metadata"
        too_large = await ag.client.post("/oauth/register", content=b"[" * 100_000, headers=headers)
        assert too_large.status_code == 413


async def test_the_openapi_document_has_no_secret_in_examples(ag: Authgate) -> None:
    document = ag.app.openapi()
    mine = {"/v1/orgs/{org}/oauth-clients", "/oauth/register"}
    assert mine <= set(document["paths"])
    examples = [
        *_examples({path: document["paths"][path] for path in mine}),
        *_examples(document["components"]["schemas"]["ClientBody"]),
    ]
    assert len(examples) == 2
    bodies = [
        body
        for example in examples
        for body in (example if isinstance(example, list) else [example])
    ]
    assert all(isinstance(body, dict) and "client_secret" not in body for body in bodies)
    assert "secret_hash" not in json.dumps(document)


def _examples(node: Any) -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("example", "examples"):
                yield value
            else:
                yield from _examples(value)
    elif isinstance(node, list):
        for item in node:
            yield from _examples(item)
