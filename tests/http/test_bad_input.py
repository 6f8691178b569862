"""SECURITY promise 4: bad input gets a clear 4xx with a stable code, never a 5xx.

Bodies (JSON and forms), the token endpoint's grants, Authorization headers. Forged and
expired access tokens are in ``test_bad_tokens.py``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.http.conftest import PASSWORD, Authgate, bearer

FORM = {"content-type": "application/x-www-form-urlencoded"}
JSON = {"content-type": "application/json"}
OAUTH_FORM_ENDPOINTS = ("/oauth/token", "/oauth/revoke", "/oauth/introspect")


def error_code(response: httpx.Response) -> str:
    """The stable code of either error form (authgate's or RFC 6749 §5.2)."""
    error = response.json()["error"]
    return str(error if isinstance(error, str) else error["code"])


def fields(response: httpx.Response) -> list[str]:
    return [f["field"] for f in response.json()["error"]["details"]["fields"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": 5, "password": PASSWORD}, "email"),
        ({"email": "a@b.test", "password": ["x"]}, "password"),
        ({"email": "a@b.test", "password": PASSWORD, "organization": {"$ne": 1}}, "organization"),
        ({"email": "a@b.test", "password": PASSWORD, "admin": True}, "admin"),
        ({"email": "a@b.test", "password": PASSWORD, "scope": 7}, "scope"),
        ({"password": PASSWORD}, "email"),
        ({"email": "a@b.test"}, "password"),
        ({"email": "a@b.test", "password": "p" * 4097}, "password"),
    ],
)
async def test_invalid_login_bodies_name_the_field(
    ag: Authgate, body: dict[str, Any], field: str
) -> None:
    response = await ag.client.post("/v1/auth/login", json=body)
    assert response.status_code == 422, response.text
    assert error_code(response) == "validation_failed"
    assert field in fields(response)
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "content",
    [b'{"email":', b"[]", b"null", b'"text"', b"{'email': 1}", b"\xff\xfe{}", b"{}" * 10],
)
async def test_malformed_json_is_a_4xx(ag: Authgate, content: bytes) -> None:
    response = await ag.client.post("/v1/auth/login", content=content, headers=JSON)
    assert response.status_code in (400, 422), response.text
    assert error_code(response) in ("validation_failed", "invalid_request")


async def test_json_endpoint_with_another_content_type(ag: Authgate) -> None:
    body = b'{"email": "a@b.test", "password": "x"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = await ag.client.post(
            "/v1/auth/login", content=body, headers={"content-type": content_type}
        )
        assert response.status_code == 422
        assert error_code(response) == "validation_failed"


async def test_strict_bodies_everywhere(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    headers = bearer((await ag.login(owner.email))["access_token"])
    cases = [
        ("POST", "/v1/auth/register", {"email": "r@x.test", "password": PASSWORD}),
        ("POST", "/v1/auth/password/forgot", {"email": "r@x.test", "extra": 1}),
        ("POST", "/v1/auth/verify-email", {"token": "t" * 300}),
        ("POST", "/v1/auth/invites/accept", {"token": "", "password": PASSWORD}),
        ("PATCH", f"/v1/orgs/{org.slug}", {"domain_join": "SOMETIMES"}),
        ("PATCH", f"/v1/orgs/{org.slug}", {"domains": "example.com"}),
        ("PATCH", f"/v1/orgs/{org.slug}", {"domains": ["not a domain"]}),
        ("PATCH", f"/v1/orgs/{org.slug}", {"request_email": "nope"}),
        ("PATCH", f"/v1/orgs/{org.slug}", {"name": "bad\x01name"}),
        ("PUT", f"/v1/orgs/{org.slug}/members/{owner.id}/role", {"role": "GOD"}),
        ("POST", f"/v1/orgs/{org.slug}/invites", {"email": "x@y.test", "role": "DENY"}),
        ("POST", f"/v1/orgs/{org.slug}/invites", {"email": "no-at-sign"}),
        ("POST", f"/v1/orgs/{org.slug}/clients", {"name": ""}),
        ("POST", f"/v1/orgs/{org.slug}/join-requests/x/decision", {"approve": "maybe"}),
        ("GET", f"/v1/orgs/{org.slug}/audit?limit=abc", None),
        ("GET", f"/v1/orgs/{org.slug}/audit?limit=0", None),
        ("GET", f"/v1/orgs/{org.slug}/audit?before=yesterday", None),
        ("GET", f"/v1/orgs/{org.slug}/join-requests?status=MAYBE", None),
    ]
    for method, path, body in cases:
        response = await ag.client.request(method, path, json=body, headers=headers)
        assert response.status_code == 422, (method, path, body, response.text)
        assert error_code(response) in ("validation_failed", "weak_password"), response.text
    # Nothing of the above changed the organization.
    now = (await ag.client.get(f"/v1/orgs/{org.slug}", headers=headers)).json()
    assert (now["domains"], now["domain_join"], now["name"]) == ([], "OFF", org.name)


async def test_client_with_illegal_scope_is_refused(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    headers = bearer((await ag.login(owner.email))["access_token"])
    response = await ag.client.post(
        f"/v1/orgs/{org.slug}/clients", headers=headers, json={"name": "x", "scopes": 'a"b'}
    )
    assert 400 <= response.status_code < 500
    listed = await ag.client.get(f"/v1/orgs/{org.slug}/clients", headers=headers)
    assert listed.json() == []


async def test_huge_bodies_are_refused_before_reading(ag: Authgate) -> None:
    for path in ("/v1/auth/login", "/v1/auth/register", "/oauth/token", "/oauth/revoke"):
        response = await ag.client.post(path, content=b"x" * 70_000, headers=JSON)
        assert response.status_code == 413, path
        assert error_code(response) == "payload_too_large"
    # Forms are bounded more tightly (16 KiB) on every OAuth endpoint.
    for path in OAUTH_FORM_ENDPOINTS:
        response = await ag.client.post(path, content=b"token=" + b"x" * 20_000, headers=FORM)
        assert response.status_code == 413, path
        assert error_code(response) == "payload_too_large"


async def test_a_2000_character_password(ag: Authgate) -> None:
    long = "p" * 2000
    register = await ag.client.post(
        "/v1/auth/register", json={"email": "long@pw.test", "password": long, "display_name": "L"}
    )
    assert register.status_code == 413
    assert error_code(register) == "payload_too_large"
    assert ag.mails() == []
    # At sign-in too, before any hashing, and alike for known and unknown emails.
    _, owner = await ag.org_with_owner()
    login = await ag.login_response(owner.email, long)
    stranger = await ag.login_response("nobody@pw.test", long)
    assert login.status_code == 413
    assert error_code(login) == "payload_too_large"
    assert login.content == stranger.content


@pytest.mark.parametrize("path", OAUTH_FORM_ENDPOINTS)
async def test_oauth_endpoints_take_forms_only_each_parameter_once(ag: Authgate, path: str) -> None:
    as_json = await ag.client.post(path, json={"grant_type": "refresh_token", "token": "x"})
    no_type = await ag.client.post(path, content=b"grant_type=refresh_token&token=x")
    twice = await ag.client.post(
        path, content=b"grant_type=refresh_token&token=a&token=b&refresh_token=a", headers=FORM
    )
    not_utf8 = await ag.client.post(path, content=b"token=\xff\xfe", headers=FORM)
    for response in (as_json, no_type, twice, not_utf8):
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_request"
        assert response.headers["cache-control"] == "no-store"


UNSUPPORTED = "unsupported_grant_type"
BAD_GRANTS = [
    ({"grant_type": "password", "username": "a@b.test", "password": PASSWORD}, UNSUPPORTED),
    # authorization_code is for registered apps: without one, client authentication fails.
    (
        {"grant_type": "authorization_code", "code": "x", "redirect_uri": "http://x"},
        "invalid_client",
    ),
    ({"grant_type": "implicit"}, UNSUPPORTED),
    ({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"}, UNSUPPORTED),
    ({"grant_type": "x" * 5000}, UNSUPPORTED),
    ({}, "invalid_request"),
    ({"grant_type": ""}, "invalid_request"),
    ({"refresh_token": "abc"}, "invalid_request"),
    ({"grant_type": "refresh_token"}, "invalid_request"),
    ({"grant_type": "refresh_token", "refresh_token": ""}, "invalid_request"),
    ({"grant_type": "refresh_token", "refresh_token": "a", "client_secret": "s"}, "invalid_client"),
    ({"grant_type": "client_credentials"}, "invalid_client"),
    (
        {"grant_type": "client_credentials", "client_id": "x y", "client_secret": "s"},
        "invalid_client",
    ),
]


@pytest.mark.parametrize(("form", "code"), BAD_GRANTS)
async def test_token_endpoint_grants(ag: Authgate, form: dict[str, str], code: str) -> None:
    response = await ag.token(form)
    assert response.json()["error"] == code, response.text
    assert set(response.json()) == {"error", "error_description"}
    assert response.headers["cache-control"] == "no-store"
    if code == "invalid_client":
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Basic")
    else:
        assert response.status_code == 400


@pytest.mark.parametrize(
    "authorization",
    ["Bearer x", "Basic !!!", "Basic", "Basic bm9jb2xvbg==", "Basic /w==", "Digest a=b", "Basic  "],
)
async def test_malformed_client_authentication(ag: Authgate, authorization: str) -> None:
    for path in ("/oauth/token", "/oauth/introspect"):
        response = await ag.client.post(
            path,
            data={"grant_type": "client_credentials", "token": "x"},
            headers={"authorization": authorization},
        )
        assert response.status_code == 401, (path, response.text)
        assert response.json()["error"] == "invalid_client"
        assert response.headers["www-authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer ", "Basic !!!", "Bearer a b", "Token abc", "Bearer \t", "bearer,x"],
)
async def test_malformed_bearer_headers(ag: Authgate, authorization: str) -> None:
    response = await ag.client.get("/v1/me", headers={"authorization": authorization})
    assert response.status_code == 401
    assert error_code(response) == "invalid_token"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_unknown_routes_and_methods(ag: Authgate) -> None:
    assert (await ag.client.get("/v1/nothing-here")).status_code == 404
    assert (await ag.client.get("/oauth/token")).status_code == 405
    assert (await ag.client.delete("/v1/auth/login")).status_code == 405
    _, owner = await ag.org_with_owner()
    headers = bearer((await ag.login(owner.email))["access_token"])
    for slug in ("..%2F..%2Fetc", "%00", "a" * 5000, "ACME", "%F0%9F%92%A9"):
        response = await ag.client.get(f"/v1/orgs/{slug}/members", headers=headers)
        assert response.status_code == 404, slug


async def test_link_pages_escape_their_token_and_refuse_bad_forms(ag: Authgate) -> None:
    page = await ag.client.get("/accept-invite?token=%22%3E%3Cscript%3Ealert(1)%3C/script%3E")
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    for path in ("/accept-invite", "/reset-password", "/verify-email"):
        missing = await ag.client.post(path, data={})
        assert missing.status_code == 422, path
        wrong = await ag.client.post(path, data={"token": "forged", "password": PASSWORD})
        assert wrong.status_code == 410, path
        assert "<form" not in wrong.text  # a dead link offers no form to retry
