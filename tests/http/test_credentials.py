"""The credentials API: write-only, versioned, for an organization's admins only.

SECURITY promises 1, 3 and 4 for the vault: canary values planted through every kind and
every malformed body never come back in any response, list, error, audit entry, log line,
OpenAPI document or byte of the SQLite file; another organization's admin gets 404 and a
MAKER or USER 403 on every endpoint; bad input is a 4xx with a stable code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from authgate.identity.deps import Actor
from authgate.identity.models import Organization, Role
from tests.http.conftest import Authgate, Start, bearer

VALUE = "canary-vault-value-3e8c1d"
PASSWORD = "canary-vault-password-b41f07"
CLIENT_SECRET = "canary-vault-client-secret-9a2c55"
DSN = "postgresql://app:canary-vault-dsn-77d0e4@db.internal/sales"
REJECTED = "canary-vault-rejected-c0ffee"
CANARIES = (VALUE, PASSWORD, CLIENT_SECRET, DSN.split(":")[2].split("@")[0], REJECTED)
VALUE_FIELDS = {"value", "password", "username", "clientSecret", "client_secret", "secret"}

BODIES: dict[str, dict[str, Any]] = {
    "crm.key": {"kind": "api_key", "value": VALUE, "allowedHosts": ["API.example.com"]},
    "plain.secret": {"kind": "secret", "value": VALUE, "allowedHosts": ["10.0.0.7"]},
    "crm.token": {
        "kind": "bearer_token",
        "value": VALUE,
        "allowedHosts": ["api.example.com"],
        "deviceUsable": True,
        "description": "Long-lived token",
    },
    "legacy.basic": {
        "kind": "basic",
        "username": "etl",
        "password": PASSWORD,
        "allowedHosts": ["legacy.example.com"],
    },
    "crm.oauth": {
        "kind": "oauth_client",
        "clientSecret": CLIENT_SECRET,
        "authorizeUrl": "https://login.example.com/authorize",
        "tokenUrl": "https://login.example.com/token",
        "clientId": "crm-client",
        "scopes": ["openid", "offline_access"],
        "pkce": True,
        "extraAuthorizeParams": {"prompt": "consent"},
        "allowedHosts": ["api.example.com"],
    },
    "sales.db": {"kind": "sql_connection", "value": DSN, "solution": "sales"},
}


@dataclass
class Org:
    org: Organization
    owner: dict[str, str]
    admin: dict[str, str]
    maker: dict[str, str]
    user: dict[str, str]


async def make_org(ag: Authgate, prefix: str) -> Org:
    org, owner = await ag.org_with_owner(prefix)
    headers = {Role.OWNER: bearer((await ag.login(owner.email))["access_token"])}
    for role in (Role.ADMIN, Role.MAKER, Role.USER):
        member = await ag.user(f"{role.value.lower()}@{org.slug}.test")
        await ag.member(org, member, role)
        headers[role] = bearer((await ag.login(member.email))["access_token"])
    return Org(
        org, headers[Role.OWNER], headers[Role.ADMIN], headers[Role.MAKER], headers[Role.USER]
    )


@pytest_asyncio.fixture
async def acme(ag: Authgate) -> Org:
    return await make_org(ag, "acme")


def url(org: Organization, name: str | None = None) -> str:
    base = f"/v1/orgs/{org.slug}/credentials"
    return base if name is None else f"{base}/{name}"


def assert_no_value_fields(view: dict[str, Any]) -> None:
    assert not VALUE_FIELDS & set(view)
    if view.get("oauth"):
        assert not VALUE_FIELDS & set(view["oauth"])


async def test_create_replace_read_and_delete(ag: Authgate, acme: Org) -> None:
    body = BODIES["crm.key"]
    created = await ag.client.put(url(acme.org, "crm.key"), headers=acme.admin, json=body)
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    view = created.json()
    assert view["name"] == "crm.key"
    assert view["kind"] == "api_key"
    assert view["allowedHosts"] == ["api.example.com"]
    assert view["version"] == 1
    assert view["solution"] is None
    assert_no_value_fields(view)

    replaced = await ag.client.put(
        url(acme.org, "crm.key"), headers=acme.owner, json={**body, "value": VALUE + "-2"}
    )
    assert replaced.status_code == 200
    assert replaced.json()["version"] == 2
    assert replaced.json()["createdAt"] == view["createdAt"]

    listed = await ag.client.get(url(acme.org), headers=acme.admin)
    assert [(c["name"], c["version"]) for c in listed.json()] == [("crm.key", 2)]
    one = await ag.client.get(url(acme.org, "crm.key"), headers=acme.admin)
    assert one.json() == replaced.json()

    deleted = await ag.client.delete(url(acme.org, "crm.key"), headers=acme.admin)
    assert deleted.status_code == 204
    gone = await ag.client.get(url(acme.org, "crm.key"), headers=acme.admin)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "not_found"


async def test_every_kind_is_stored_and_described_without_its_value(
    ag: Authgate, acme: Org
) -> None:
    for name, body in BODIES.items():
        response = await ag.client.put(url(acme.org, name), headers=acme.admin, json=body)
        assert response.status_code == 201, (name, response.text)
        assert_no_value_fields(response.json())

    listed = (await ag.client.get(url(acme.org), headers=acme.admin)).json()
    assert sorted(c["name"] for c in listed) == sorted(BODIES)
    oauth = next(c for c in listed if c["name"] == "crm.oauth")["oauth"]
    assert oauth == {
        "authorizeUrl": "https://login.example.com/authorize",
        "tokenUrl": "https://login.example.com/token",
        "clientId": "crm-client",
        "scopes": ["openid", "offline_access"],
        "pkce": True,
        "extraAuthorizeParams": {"prompt": "consent"},
        "tokenEndpointAuthMethod": "client_secret_basic",
    }
    scoped = await ag.client.get(
        url(acme.org, "sales.db"), params={"solution": "sales"}, headers=acme.admin
    )
    assert scoped.json()["solution"] == "sales"
    assert (await ag.client.get(url(acme.org, "sales.db"), headers=acme.admin)).status_code == 404


@pytest.mark.parametrize(
    ("name", "body", "code"),
    [
        ("bad name", BODIES["crm.key"], "invalid_credential"),
        ("x" * 129, BODIES["crm.key"], "invalid_credential"),
        ("k", {**BODIES["crm.key"], "allowedHosts": []}, "invalid_credential"),
        ("k", {**BODIES["crm.key"], "allowedHosts": ["*.example.com"]}, "invalid_credential"),
        ("k", {**BODIES["crm.key"], "allowedHosts": ["https://x.example"]}, "invalid_credential"),
        ("k", {**BODIES["crm.key"], "value": REJECTED + "\r\nX-Injected: 1"}, "invalid_credential"),
        ("k", {**BODIES["crm.key"], "password": REJECTED}, "invalid_credential"),
        (
            "k",
            {"kind": "basic", "value": REJECTED, "allowedHosts": ["a.example"]},
            "invalid_credential",
        ),
        (
            "k",
            {**BODIES["crm.oauth"], "tokenUrl": "http://login.example.com/t"},
            "invalid_credential",
        ),
        ("k", {**BODIES["sales.db"], "deviceUsable": True}, "invalid_credential"),
        ("k", {**BODIES["crm.key"], "value": REJECTED * 400}, "validation_failed"),
        ("k", {**BODIES["crm.key"], "value": ""}, "validation_failed"),
        ("k", {**BODIES["crm.key"], "kind": "password"}, "validation_failed"),
        ("k", {**BODIES["crm.key"], "token": REJECTED}, "validation_failed"),
        ("k", {**BODIES["crm.key"], "value": 12345}, "validation_failed"),
        ("k", {"value": REJECTED, "allowedHosts": ["a.example"]}, "validation_failed"),
    ],
)
async def test_bad_input_is_a_clear_4xx_that_repeats_no_value(
    ag: Authgate, acme: Org, name: str, body: dict[str, Any], code: str
) -> None:
    response = await ag.client.put(url(acme.org, name), headers=acme.admin, json=body)
    assert response.status_code in (400, 404, 422), response.text
    if response.status_code != 404:  # a name with a space or slash may not route
        assert response.json()["error"]["code"] == code
    assert REJECTED not in response.text
    listed = await ag.client.get(url(acme.org), headers=acme.admin)
    assert listed.json() == []


async def test_a_body_that_is_not_json_is_refused(ag: Authgate, acme: Org) -> None:
    response = await ag.client.put(
        url(acme.org, "k"),
        headers={**acme.admin, "content-type": "application/json"},
        content=b'{"kind": "api_key", "value": "' + REJECTED.encode(),
    )
    assert response.status_code == 422
    assert REJECTED not in response.text


async def endpoints(
    ag: Authgate, org: Organization, headers: dict[str, str]
) -> list[httpx.Response]:
    return [
        await ag.client.put(url(org, "crm.key"), headers=headers, json=BODIES["crm.key"]),
        await ag.client.put(url(org, "fresh.key"), headers=headers, json=BODIES["crm.key"]),
        await ag.client.get(url(org), headers=headers),
        await ag.client.get(url(org, "crm.key"), headers=headers),
        await ag.client.get(url(org, "missing"), headers=headers),
        await ag.client.delete(url(org, "crm.key"), headers=headers),
    ]


async def test_another_organizations_admin_gets_404_everywhere(ag: Authgate, acme: Org) -> None:
    await ag.client.put(url(acme.org, "crm.key"), headers=acme.admin, json=BODIES["crm.key"])
    other = await make_org(ag, "other")

    for headers in (other.owner, other.admin):
        for response in await endpoints(ag, acme.org, headers):
            assert response.status_code == 404, response.request
            assert response.json()["error"]["code"] == "not_found"
            assert VALUE not in response.text

    still = await ag.client.get(url(acme.org, "crm.key"), headers=acme.admin)
    assert still.json()["version"] == 1
    assert (await ag.client.get(url(other.org), headers=other.admin)).json() == []


async def test_makers_and_users_get_403_and_strangers_401(ag: Authgate, acme: Org) -> None:
    await ag.client.put(url(acme.org, "crm.key"), headers=acme.admin, json=BODIES["crm.key"])
    for headers in (acme.maker, acme.user):
        for response in await endpoints(ag, acme.org, headers):
            assert response.status_code == 403, response.request
            assert response.json()["error"]["code"] == "forbidden"
    for response in await endpoints(ag, acme.org, {}):
        assert response.status_code == 401
    for response in await endpoints(ag, acme.org, bearer("not-a-token")):
        assert response.status_code == 401
    assert (await ag.client.get(url(acme.org, "crm.key"), headers=acme.admin)).json()[
        "version"
    ] == 1


async def test_openapi_has_no_value_in_responses_and_no_secret_in_examples(ag: Authgate) -> None:
    document = (await ag.client.get("/openapi.json")).json()
    view = document["components"]["schemas"]["CredentialView"]
    assert not VALUE_FIELDS & set(view["properties"])
    oauth = document["components"]["schemas"]["OAuthClientView"]
    assert not VALUE_FIELDS & set(oauth["properties"])
    paths = document["paths"]
    assert {"put", "get", "delete"} <= set(paths["/v1/orgs/{org}/credentials/{name}"])
    example = document["components"]["schemas"]["CredentialBody"]["examples"][0]
    assert example["value"].startswith("<")


def database_bytes(ag: Authgate) -> bytes:
    files = sorted(ag.data_dir.glob("authgate.db*"))
    assert files
    return b"".join(path.read_bytes() for path in files)


async def test_planted_canaries_never_come_back(
    start: Start, capfd: pytest.CaptureFixture[str]
) -> None:
    async with start() as ag:
        acme = await make_org(ag, "canary")
        for name, body in BODIES.items():
            r = await ag.client.put(url(acme.org, name), headers=acme.admin, json=body)
            assert r.status_code == 201
        for name, body in BODIES.items():  # replace every one: a second version each
            r = await ag.client.put(url(acme.org, name), headers=acme.owner, json=body)
            assert r.status_code == 200
        await ag.client.put(
            url(acme.org, "k"),
            headers=acme.admin,
            json={**BODIES["crm.key"], "value": REJECTED * 400},
        )
        await ag.client.put(
            url(acme.org, "k"),
            headers=acme.admin,
            json={**BODIES["crm.key"], "allowedHosts": [], "value": REJECTED},
        )
        await ag.client.put(
            url(acme.org, "k"), headers=acme.maker, json={**BODIES["crm.key"], "value": REJECTED}
        )
        # Use them the way a function call does: decrypted in memory, audited.
        user = await ag.services.deps.store.users.get_by_email(f"user@{acme.org.slug}.test")
        assert user is not None
        actor = Actor(user.id)
        resolver = ag.services.vault.resolver(acme.org.id, "sales", "list-orders", actor)
        assert (await resolver.resolve("crm.key")).value == VALUE
        assert (await resolver.resolve("legacy.basic")).value == f"etl:{PASSWORD}"
        assert await resolver.resolve_sql_connection("sales.db") == DSN
        await ag.client.get(url(acme.org), headers=acme.admin)
        for name in BODIES:
            await ag.client.get(url(acme.org, name), headers=acme.admin)
        audit = await ag.client.get(f"/v1/orgs/{acme.org.slug}/audit", headers=acme.owner)
        actions = [entry["action"] for entry in audit.json()]
        await ag.client.get("/openapi.json")
        live = database_bytes(ag)
        bodies = [response.content for response in ag.responses]
    stored = live + database_bytes(ag)
    logs = capfd.readouterr()
    log_text = logs.out + logs.err

    assert actions.count("credential.used") == 3
    assert actions.count("credential.created") == len(BODIES)
    assert actions.count("credential.replaced") == len(BODIES)
    assert b"crm.oauth" in stored  # the right file was read
    assert "request" in log_text  # the access log was captured
    for canary in CANARIES:
        assert not any(canary.encode() in body for body in bodies), canary
        assert canary not in audit.text, canary
        assert canary.encode() not in stored, canary
        assert canary not in log_text, canary
