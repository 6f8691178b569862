"""The SSO administration API on SQLite and PostgreSQL: IdPs checked against their metadata,
the client secret write-only, refusals that say what to fix, settings, and tenancy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from authgate.identity.models import Role
from tests.http.conftest import Authgate, bearer, running, unique
from tests.peers.oidc_idp import Idp, start_idp
from tests.peers.sso import (
    CLIENT_ID,
    CLIENT_SECRET,
    SsoOrg,
    idp_clients,
    person,
    sso_org,
    unique_login,
)

EGRESS = {"egress_allowed_hosts": ("127.0.0.1",)}
VIEW_FIELDS = {
    "id", "name", "displayName", "type", "issuer", "clientId", "deviceClientId", "scopes",
    "pkce", "nonce", "domains", "tenants", "endpoints", "enabled", "version", "secretVersion",
    "redirectUri", "createdBy", "createdAt", "updatedAt",
}  # fmt: skip


@pytest_asyncio.fixture(scope="module")
async def idp() -> AsyncIterator[Idp]:
    async with start_idp("okta", idp_clients()) as running_idp:
        yield running_idp


@pytest_asyncio.fixture
async def ag(backend_overrides: dict[str, Any], tmp_path: Path) -> AsyncIterator[Authgate]:
    async with running(tmp_path, **EGRESS, **backend_overrides) as instance:
        yield instance


@pytest_asyncio.fixture
async def acme(ag: Authgate, idp: Idp) -> SsoOrg:
    return await sso_org(ag, idp)


def okta(tenant: SsoOrg, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "okta",
        "issuer": tenant.idp.issuer,
        "clientId": CLIENT_ID,
        "clientSecret": CLIENT_SECRET,
        "domains": [tenant.domain],
    }
    for name, value in changes.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body


async def test_an_idp_is_created_listed_and_described_without_its_secret(acme: SsoOrg) -> None:
    created = await acme.put_idp(**okta(acme, displayName="Acme Okta"))

    assert created.status_code == 201, created.text
    view = created.json()
    assert set(view) == VIEW_FIELDS
    assert view["redirectUri"] == "http://testserver/v1/sso/callback"
    assert view["displayName"] == "Acme Okta"
    assert view["scopes"] == ["openid", "email", "profile"]
    assert view["version"] == 1
    listed = await acme.ag.client.get(f"/v1/orgs/{acme.slug}/sso/idps", headers=acme.owner)
    assert [item["name"] for item in listed.json()] == ["main"]
    one = await acme.ag.client.get(f"/v1/orgs/{acme.slug}/sso/idps/main", headers=acme.owner)
    assert one.json() == view
    for response in acme.ag.responses:
        assert CLIENT_SECRET not in response.text


async def test_a_replacement_without_a_secret_keeps_it(acme: SsoOrg) -> None:
    await acme.put_idp(**okta(acme))
    acme.idp_id = (await acme.put_idp(**okta(acme, clientSecret=None))).json()["id"]
    view = (
        await acme.ag.client.get(f"/v1/orgs/{acme.slug}/sso/idps/main", headers=acme.owner)
    ).json()
    assert view["version"] == 2
    assert view["secretVersion"] == 1
    await acme.settings(provisioning="auto")
    login = await person(acme, unique_login())

    tokens = await acme.sign_in(login)  # the kept secret still authenticates at the IdP

    assert (await acme.ag.me(tokens["access_token"])).status_code == 200
    replaced = await acme.put_idp(**okta(acme, clientSecret="another secret"))
    assert replaced.json()["secretVersion"] == 2


async def test_explicit_endpoints_on_the_issuers_origin_need_no_discovery(acme: SsoOrg) -> None:
    issuer = acme.idp.issuer
    endpoints = {
        "authorizationEndpoint": f"{issuer}/auth",
        "tokenEndpoint": f"{issuer}/token",
        "jwksUri": f"{issuer}/jwks",
    }
    created = await acme.put_idp(**okta(acme, endpoints=endpoints))
    assert created.status_code == 201, created.text
    acme.idp_id = created.json()["id"]
    await acme.settings(provisioning="auto")

    tokens = await acme.sign_in(await person(acme, unique_login()))

    assert (await acme.ag.me(tokens["access_token"])).status_code == 200


REFUSALS: dict[str, tuple[dict[str, Any], str]] = {
    "issuer-not-as-stated": ({"issuer": "ISSUER/"}, "names another issuer"),
    "unreachable-issuer": ({"issuer": "http://127.0.0.1:9/nothing"}, "could not read"),
    "plain-http": ({"issuer": "http://idp.example/oauth2"}, "https://"),
    "userinfo": ({"issuer": "https://user:pw@idp.example/"}, "without user or password"),
    "fragment": ({"issuer": "https://idp.example/#x"}, "fragment"),
    "query": ({"issuer": "https://idp.example/?a=b"}, "query"),
    "javascript": ({"issuer": "javascript:alert(1)"}, "must name a host"),
    "no-domains": ({"domains": []}, "domains must list"),
    "unverified-domain": ({"domains": ["elsewhere.test"]}, "not a verified domain"),
    "public-domain": ({"domains": ["gmail.com"]}, "not a verified domain"),
    "bad-domain": ({"domains": ["not a domain"]}, "domains"),
    "tenants-for-okta": ({"tenants": ["72f988bf-86f1-41af-91ab-2d7cd011db47"]}, "Entra ID only"),
    "no-openid-scope": ({"scopes": ["email"]}, "openid"),
    "quoted-scope": ({"scopes": ["openid", 'a"b']}, "scope"),
    "no-secret": ({"clientSecret": None}, "clientSecret is required"),
    "control-in-client-id": ({"clientId": "a\nb"}, "clientId"),
    "endpoints-elsewhere": (
        {
            "endpoints": {
                "authorizationEndpoint": "https://evil.example/auth",
                "tokenEndpoint": "https://evil.example/token",
                "jwksUri": "https://evil.example/jwks",
            }
        },
        "issuer's origin",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
async def test_an_unusable_configuration_is_refused_with_the_fix(acme: SsoOrg, case: str) -> None:
    changes, message = REFUSALS[case]
    if changes.get("issuer") == "ISSUER/":
        changes = {"issuer": acme.idp.issuer + "/"}
    if case == "endpoints-elsewhere":
        changes = dict(changes, issuer="https://idp.example/oauth2")

    response = await acme.put_idp(**okta(acme, **changes))

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_idp_config"
    assert message in error["message"]
    assert CLIENT_SECRET not in response.text
    listed = await acme.ag.client.get(f"/v1/orgs/{acme.slug}/sso/idps", headers=acme.owner)
    assert listed.json() == []


@pytest.mark.parametrize("body", [{"unknown": 1}, {"type": "saml"}, {"pkce": "maybe"}])
async def test_a_malformed_body_is_a_validation_error(acme: SsoOrg, body: dict[str, Any]) -> None:
    response = await acme.put_idp(**okta(acme, **body))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"


@pytest.mark.parametrize("name", ["Upper", "has/slash", "-dash", "x" * 64, "a b"])
async def test_an_idp_name_must_be_a_short_slug(acme: SsoOrg, name: str) -> None:
    response = await acme.ag.client.put(
        f"/v1/orgs/{acme.slug}/sso/idps/{name}", headers=acme.owner, json=okta(acme)
    )

    assert response.status_code in (404, 422)


async def test_settings_default_and_change(acme: SsoOrg) -> None:
    path = f"/v1/orgs/{acme.slug}/sso"
    default = await acme.ag.client.get(path, headers=acme.owner)
    assert default.json() == {
        "provisioning": "invite_only",
        "enforceSso": False,
        "solutions": [],
        "updatedAt": None,
    }

    refused = await acme.ag.client.patch(path, headers=acme.owner, json={"enforceSso": True})
    assert refused.status_code == 422
    assert "enabled identity provider" in refused.json()["error"]["message"]
    await acme.put_idp(**okta(acme))
    changed = await acme.settings(enforceSso=True, provisioning="request_access")
    assert changed["enforceSso"] is True
    assert changed["provisioning"] == "request_access"
    kept = await acme.settings(solutions=["crm"])
    assert kept["enforceSso"] is True
    assert kept["solutions"] == ["crm"]
    bad = await acme.ag.client.patch(path, headers=acme.owner, json={"provisioning": "always"})
    assert bad.status_code == 422


async def test_other_organizations_and_non_admins_cannot_touch_the_idps(
    acme: SsoOrg, ag: Authgate, idp: Idp
) -> None:
    await acme.put_idp(**okta(acme))
    other = await sso_org(ag, idp, "other")
    user = await ag.user(f"{unique('user')}@{acme.domain}")
    await ag.member(acme.org, user, Role.MAKER)
    maker = bearer((await ag.login(user.email))["access_token"])
    base = f"/v1/orgs/{acme.slug}/sso"
    calls = [
        ("GET", base, None),
        ("PATCH", base, {"enforceSso": False}),
        ("GET", f"{base}/idps", None),
        ("GET", f"{base}/idps/main", None),
        ("PUT", f"{base}/idps/main", okta(acme)),
        ("DELETE", f"{base}/idps/main", None),
    ]

    for method, path, body in calls:
        outsider = await ag.client.request(method, path, headers=other.owner, json=body)
        assert outsider.status_code == 404, (method, path, outsider.text)
        inside = await ag.client.request(method, path, headers=maker, json=body)
        assert inside.status_code == 403, (method, path, inside.text)
    assert (await ag.client.get(f"{base}/idps/main", headers=acme.owner)).status_code == 200


async def test_the_secret_is_stored_sealed_and_audited_by_name_only(acme: SsoOrg) -> None:
    await acme.put_idp(**okta(acme))
    await acme.put_idp(**okta(acme, clientSecret=CLIENT_SECRET + "-2"))
    await acme.ag.client.delete(f"/v1/orgs/{acme.slug}/sso/idps/main", headers=acme.owner)

    audit = await acme.ag.services.deps.store.audit.list(acme.org.id, limit=100)
    actions = [event.action for event in audit]
    assert {"sso.idp.created", "sso.idp.replaced", "sso.idp.deleted"} <= set(actions)
    assert all(CLIENT_SECRET not in repr(event) for event in audit)
    database = acme.ag.data_dir / "authgate.db"
    if database.exists():
        assert CLIENT_SECRET.encode() not in database.read_bytes()


async def test_openapi_has_no_secret_field_in_views_and_no_secret_in_examples(ag: Authgate) -> None:
    document = (await ag.client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]

    assert "clientSecret" not in schemas["IdpView"]["properties"]
    assert schemas["IdpBody"]["examples"][0]["clientSecret"].startswith("<")
    paths = document["paths"]
    assert {"put", "get", "delete"} <= set(paths["/v1/orgs/{org}/sso/idps/{name}"])
    assert "/v1/sso/discover" in paths
    assert "/v1/sso/token" in paths
