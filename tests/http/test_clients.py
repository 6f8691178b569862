"""Service clients: the secret shown once, the client-credentials grant (Basic and body),
introspection (RFC 7662) bounded to the client's organization, revocation (RFC 7009)."""

from __future__ import annotations

from typing import Any

import httpx
import jwt

from authgate.identity.models import Organization
from tests.http.conftest import Authgate, basic, bearer


async def new_client(
    ag: Authgate, org: Organization, headers: dict[str, str], scopes: str = "read write"
) -> dict[str, Any]:
    response = await ag.client.post(
        f"/v1/orgs/{org.slug}/clients",
        headers=headers,
        json={"name": "reporting", "scopes": scopes},
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


async def admin_of(ag: Authgate, prefix: str = "svc") -> tuple[Organization, dict[str, Any]]:
    org, owner = await ag.org_with_owner(prefix)
    return org, await ag.login(owner.email)


async def introspect(ag: Authgate, client: dict[str, Any], token: str, **extra: str) -> Any:
    response = await ag.client.post(
        "/oauth/introspect",
        data={"token": token, **extra},
        headers=basic(client["client_id"], client["client_secret"]),
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


def assert_invalid_client(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_secret_is_shown_once_and_never_listed(ag: Authgate) -> None:
    org, tokens = await admin_of(ag)
    headers = bearer(tokens["access_token"])
    client = await new_client(ag, org, headers)
    assert client["client_id"].startswith("svc_")
    assert client["scopes"] == ["read", "write"]
    assert len(client["client_secret"]) >= 32
    listed = await ag.client.get(f"/v1/orgs/{org.slug}/clients", headers=headers)
    assert listed.status_code == 200
    [entry] = listed.json()
    assert "client_secret" not in entry
    assert client["client_secret"] not in listed.text
    assert entry["client_id"] == client["client_id"]


async def test_client_credentials_by_basic_and_by_body(ag: Authgate) -> None:
    org, tokens = await admin_of(ag)
    client = await new_client(ag, org, bearer(tokens["access_token"]))
    by_basic = await ag.token(
        {"grant_type": "client_credentials"}, basic(client["client_id"], client["client_secret"])
    )
    by_body = await ag.token(
        {
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
        }
    )
    for response in (by_basic, by_body):
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert "refresh_token" not in body
        assert body["token_type"] == "Bearer"
        assert body["scope"] == "read write"
        claims = jwt.decode(body["access_token"], options={"verify_signature": False})
        assert claims["sub"] == claims["client_id"] == client["client_id"]
        assert claims["org"] == org.id
        assert claims["roles"] == []
        assert "sid" not in claims


async def test_scope_narrows_and_never_widens(ag: Authgate) -> None:
    org, tokens = await admin_of(ag)
    client = await new_client(ag, org, bearer(tokens["access_token"]))
    auth = basic(client["client_id"], client["client_secret"])
    narrowed = await ag.token({"grant_type": "client_credentials", "scope": "read"}, auth)
    assert narrowed.json()["scope"] == "read"
    wider = await ag.token({"grant_type": "client_credentials", "scope": "read admin"}, auth)
    assert wider.status_code == 400
    assert wider.json()["error"] == "invalid_scope"


async def test_wrong_secret_and_unknown_client_are_invalid_client(ag: Authgate) -> None:
    org, tokens = await admin_of(ag)
    client = await new_client(ag, org, bearer(tokens["access_token"]))
    wrong = await ag.token(
        {"grant_type": "client_credentials"}, basic(client["client_id"], "not-the-secret")
    )
    unknown = await ag.token(
        {"grant_type": "client_credentials"}, basic("svc_unknown", client["client_secret"])
    )
    in_body = await ag.token(
        {
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": client["client_secret"] + "x",
        }
    )
    no_secret = await ag.token(
        {"grant_type": "client_credentials", "client_id": client["client_id"]}
    )
    for response in (wrong, unknown, in_body, no_secret):
        assert_invalid_client(response)
    assert wrong.content == unknown.content == in_body.content


async def test_rotated_and_deleted_clients_stop_working(ag: Authgate) -> None:
    org, tokens = await admin_of(ag)
    headers = bearer(tokens["access_token"])
    client = await new_client(ag, org, headers)
    rotated = await ag.client.post(
        f"/v1/orgs/{org.slug}/clients/{client['client_id']}/secret", headers=headers
    )
    assert rotated.status_code == 200
    new_secret = rotated.json()["client_secret"]
    assert new_secret != client["client_secret"]
    auth = basic(client["client_id"], new_secret)
    assert (await ag.token({"grant_type": "client_credentials"}, auth)).status_code == 200
    old = basic(client["client_id"], client["client_secret"])
    assert_invalid_client(await ag.token({"grant_type": "client_credentials"}, old))
    deleted = await ag.client.delete(
        f"/v1/orgs/{org.slug}/clients/{client['client_id']}", headers=headers
    )
    assert deleted.status_code == 204
    assert_invalid_client(await ag.token({"grant_type": "client_credentials"}, auth))


async def test_introspection_of_own_organizations_tokens(ag: Authgate) -> None:
    org, tokens = await admin_of(ag)
    client = await new_client(ag, org, bearer(tokens["access_token"]))
    access = await introspect(ag, client, tokens["access_token"])
    assert access["active"] is True
    assert access["token_type"] == "access_token"
    assert access["org"] == org.id
    assert access["client_id"] == "authgate-device"
    assert access["roles"] == ["OWNER"]
    assert access["iss"] == "http://testserver"
    assert {"sub", "exp", "iat", "scope", "sid", "jti"} <= set(access)

    refresh = await introspect(ag, client, tokens["refresh_token"], token_type_hint="refresh_token")
    assert refresh["active"] is True
    assert refresh["token_type"] == "refresh_token"
    assert refresh["sub"] == access["sub"]
    assert refresh["sid"] == access["sid"]
    assert (await introspect(ag, client, tokens["refresh_token"]))["active"] is True


async def test_introspection_of_another_organizations_tokens_says_only_inactive(
    ag: Authgate,
) -> None:
    org, tokens = await admin_of(ag)
    client = await new_client(ag, org, bearer(tokens["access_token"]))
    other_org, other_tokens = await admin_of(ag, "other")
    other_client = await new_client(ag, other_org, bearer(other_tokens["access_token"]))
    service_token = (
        await ag.token(
            {"grant_type": "client_credentials"},
            basic(other_client["client_id"], other_client["client_secret"]),
        )
    ).json()["access_token"]
    for token in (other_tokens["access_token"], other_tokens["refresh_token"], service_token):
        assert await introspect(ag, client, token) == {"active": False}
        assert await introspect(ag, client, token, token_type_hint="refresh_token") == {
            "active": False
        }
    for junk in ("junk", "a.b.c", tokens["access_token"][:-4]):
        assert await introspect(ag, client, junk) == {"active": False}


async def test_introspection_needs_client_authentication(ag: Authgate) -> None:
    org, tokens = await admin_of(ag)
    client = await new_client(ag, org, bearer(tokens["access_token"]))
    anonymous = await ag.client.post("/oauth/introspect", data={"token": tokens["access_token"]})
    assert_invalid_client(anonymous)
    wrong = await ag.client.post(
        "/oauth/introspect",
        data={"token": tokens["access_token"]},
        headers=basic(client["client_id"], "wrong-secret"),
    )
    assert_invalid_client(wrong)
    as_user = await ag.client.post(
        "/oauth/introspect",
        data={"token": tokens["access_token"]},
        headers=bearer(tokens["access_token"]),
    )
    assert_invalid_client(as_user)


async def test_after_logout_tokens_introspect_inactive(ag: Authgate) -> None:
    org, tokens = await admin_of(ag)
    client = await new_client(ag, org, bearer(tokens["access_token"]))
    out = await ag.client.post("/v1/auth/logout", headers=bearer(tokens["access_token"]))
    assert out.status_code == 204
    assert await introspect(ag, client, tokens["access_token"]) == {"active": False}
    assert await introspect(ag, client, tokens["refresh_token"]) == {"active": False}


async def test_revoking_a_refresh_token_ends_the_session(ag: Authgate) -> None:
    org, tokens = await admin_of(ag)
    client = await new_client(ag, org, bearer(tokens["access_token"]))
    revoked = await ag.client.post(
        "/oauth/revoke",
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
    )
    assert revoked.status_code == 200
    assert revoked.headers["cache-control"] == "no-store"
    refused = await ag.refresh(tokens["refresh_token"])
    assert refused.json()["error"] == "invalid_grant"
    assert (await ag.me(tokens["access_token"])).status_code == 401
    assert await introspect(ag, client, tokens["access_token"]) == {"active": False}


async def test_revoking_an_access_token_ends_its_session(ag: Authgate) -> None:
    _, tokens = await admin_of(ag)
    revoked = await ag.client.post("/oauth/revoke", data={"token": tokens["access_token"]})
    assert revoked.status_code == 200
    assert (await ag.me(tokens["access_token"])).status_code == 401
    assert (await ag.refresh(tokens["refresh_token"])).json()["error"] == "invalid_grant"


async def test_revoking_unknown_or_foreign_tokens_answers_200_and_changes_nothing(
    ag: Authgate,
) -> None:
    org, tokens = await admin_of(ag)
    client = await new_client(ag, org, bearer(tokens["access_token"]))
    unknown = await ag.client.post("/oauth/revoke", data={"token": "never-issued"})
    assert unknown.status_code == 200
    # A service client cannot revoke a device session's token (RFC 7009 §2.1).
    foreign = await ag.client.post(
        "/oauth/revoke",
        data={"token": tokens["refresh_token"]},
        headers=basic(client["client_id"], client["client_secret"]),
    )
    assert foreign.status_code == 200
    assert (await ag.refresh(tokens["refresh_token"])).status_code == 200
    bad_auth = await ag.client.post(
        "/oauth/revoke",
        data={"token": "x"},
        headers=basic(client["client_id"], "wrong-secret"),
    )
    assert_invalid_client(bad_auth)
