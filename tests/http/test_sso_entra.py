"""SSO with an Entra-like IdP (npm oidc-provider, one issuer per tenant, tid and oid claims,
the multi-tenant "organizations" metadata with the {tenantid} issuer template): identities
keyed by tenant and object id, tenants that are not allowed, and tokens of one tenant's
issuer claiming another tenant — all validly signed, since every tenant shares the keys."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.http.conftest import Authgate, running
from tests.peers.oidc_idp import TENANT_A, TENANT_B, TENANT_C, Idp, start_idp
from tests.peers.sso import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEVICE_CLIENT,
    SsoOrg,
    idp_clients,
    query_of,
    sso_org,
    unique_login,
)

EGRESS = {"egress_allowed_hosts": ("127.0.0.1",)}
CONTOSO = "contoso.test"  # tenant A's domain
FABRIKAM = "fabrikam.test"  # tenant B's domain
ROGUE = "rogue.test"  # tenant C's domain


@pytest_asyncio.fixture(scope="module")
async def idp() -> AsyncIterator[Idp]:
    tenants = {TENANT_A: [CONTOSO], TENANT_B: [FABRIKAM], TENANT_C: [ROGUE]}
    async with start_idp("entra", idp_clients(), tenants=tenants) as running_idp:
        yield running_idp


@pytest_asyncio.fixture
async def ag(tmp_path: Path) -> AsyncIterator[Authgate]:
    async with running(tmp_path, **EGRESS) as instance:
        yield instance


async def entra_org(
    ag: Authgate,
    idp: Idp,
    domain: str,
    tenants: list[str],
    issuer: str | None = None,
) -> SsoOrg:
    tenant = await sso_org(ag, idp, "entra", domain=domain)
    response = await tenant.put_idp(
        type="entra",
        issuer=issuer or idp.organizations,
        clientId=CLIENT_ID,
        clientSecret=CLIENT_SECRET,
        deviceClientId=DEVICE_CLIENT,
        domains=[domain],
        tenants=tenants,
    )
    assert response.status_code == 201, response.text
    tenant.idp_id = response.json()["id"]
    await tenant.settings(provisioning="auto")
    return tenant


@pytest_asyncio.fixture
async def acme(ag: Authgate, idp: Idp) -> SsoOrg:
    """Contoso's organization: the multi-tenant issuer, tenant A only."""
    return await entra_org(ag, idp, CONTOSO, [TENANT_A])


async def member(idp: Idp, tenant: str, login: str, email: str | None, **claims: Any) -> str:
    """An account of one tenant (oid is random; sub is the login, as in every tenant)."""
    claims.setdefault("oid", str(uuid.uuid4()))
    claims.setdefault("name", login.title())
    if email is not None:
        claims.setdefault("email", email)
        claims.setdefault("preferred_username", email)
    await idp.account(idp.tenant_issuer(tenant), login, **claims)
    return str(claims["oid"])


async def test_a_tenant_member_signs_in_keyed_by_tenant_and_object_id(
    acme: SsoOrg, idp: Idp
) -> None:
    login = unique_login("alice")
    oid = await member(idp, TENANT_A, login, f"{login}@{CONTOSO}")

    app, url = await acme.start(login_hint=f"{login}@{CONTOSO}")
    assert url.startswith(idp.url + "/organizations/oauth2/v2.0/authorize?")
    back = await idp.sign_in(url, login)
    assert f"iss={idp.url.replace(':', '%3A').replace('/', '%2F')}%2F{TENANT_A}" in back
    response = await acme.ag.client.get(back.removeprefix("http://testserver"))
    answer = query_of(response.headers["location"])
    tokens = await acme.redeem(app, answer["code"])
    assert tokens.status_code == 200, tokens.text

    user = await acme.ag.services.deps.store.users.get_by_email(f"{login}@{CONTOSO}")
    assert user is not None
    [identity] = await acme.ag.services.deps.store.federation.list_identities(user.id)
    assert identity.issuer == idp.tenant_issuer(TENANT_A)
    assert identity.subject == oid


async def test_a_tenant_that_is_not_allowed_is_refused(acme: SsoOrg, idp: Idp) -> None:
    login = unique_login("mallory")
    # Tenant C's user claims a Contoso address; tenant C is not one acme allows.
    await member(idp, TENANT_C, login, f"{login}@{CONTOSO}")
    exchanged = await idp.grants()

    _, answer = await acme.to_app(login, login_hint=f"{login}@{ROGUE}")

    assert "code" not in answer
    # Tenant C's answer names its own issuer (RFC 9207 iss): refused before the code is used.
    assert answer["error_code"] == "sso_login_failed"
    assert await acme.ag.services.deps.store.users.get_by_email(f"{login}@{CONTOSO}") is None
    assert await idp.grants() == exchanged  # the code was never redeemed


async def test_the_same_sub_in_two_tenants_is_two_people(
    acme: SsoOrg, ag: Authgate, idp: Idp
) -> None:
    beta = await entra_org(ag, idp, FABRIKAM, [TENANT_B])
    login = unique_login("sam")  # the same sub in both tenants
    await member(idp, TENANT_A, login, f"{login}@{CONTOSO}")
    await member(idp, TENANT_B, login, f"{login}@{FABRIKAM}")

    in_acme = await acme.sign_in_as(login, f"{login}@{CONTOSO}")
    in_beta = await beta.sign_in_as(login, f"{login}@{FABRIKAM}")

    acme_me = (await ag.me(in_acme["access_token"])).json()
    beta_me = (await ag.me(in_beta["access_token"])).json()
    assert acme_me["id"] != beta_me["id"]


async def test_another_tenants_account_claiming_a_known_email_is_not_merged(
    ag: Authgate, idp: Idp
) -> None:
    both = await entra_org(ag, idp, CONTOSO, [TENANT_A, TENANT_B])
    login = unique_login("eve")
    await member(idp, TENANT_A, login, f"{login}@{CONTOSO}")
    await member(idp, TENANT_B, f"{login}-b", f"{login}@{CONTOSO}")
    await both.sign_in_as(login, f"{login}@{CONTOSO}")

    _, answer = await both.to_app(f"{login}-b", login_hint=f"{login}@{FABRIKAM}")

    assert answer["error_code"] == "sso_account_exists"


async def test_a_single_tenant_issuer_admits_its_own_tenant(ag: Authgate, idp: Idp) -> None:
    single = await entra_org(ag, idp, CONTOSO, [], issuer=idp.tenant_issuer(TENANT_A))
    view = await ag.client.get(f"/v1/orgs/{single.slug}/sso/idps/main", headers=single.owner)
    assert view.json()["tenants"] == [TENANT_A]
    login = unique_login("solo")
    await member(idp, TENANT_A, login, f"{login}@{CONTOSO}")

    tokens = await single.sign_in_as(login, f"{login}@{CONTOSO}")

    assert (await ag.me(tokens["access_token"])).status_code == 200


async def test_the_sign_in_name_stands_in_for_a_missing_email(acme: SsoOrg, idp: Idp) -> None:
    login = unique_login("upn")
    await member(idp, TENANT_A, login, None, preferred_username=f"{login}@{CONTOSO}")

    await acme.sign_in_as(login, f"{login}@{CONTOSO}")

    assert await acme.ag.services.deps.store.users.get_by_email(f"{login}@{CONTOSO}")


@pytest.mark.parametrize(
    "attack",
    ["tenant-c", "issuer-of-b-tid-of-a", "issuer-of-a-tid-of-b", "no-tid", "no-oid", "template"],
)
async def test_validly_signed_tokens_of_the_wrong_tenant_or_issuer_are_refused(
    acme: SsoOrg, idp: Idp, attack: str
) -> None:
    started = await acme.ag.client.post("/v1/sso/device/start", json={"idp": acme.idp_id})
    nonce = started.json()["nonce"]
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": idp.tenant_issuer(TENANT_A),
        "tid": TENANT_A,
        "oid": str(uuid.uuid4()),
        "sub": "someone",
        "aud": DEVICE_CLIENT,
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        "email": f"someone@{CONTOSO}",
    }
    if attack == "tenant-c":
        claims.update(iss=idp.tenant_issuer(TENANT_C), tid=TENANT_C)
    elif attack == "issuer-of-b-tid-of-a":
        claims["iss"] = idp.tenant_issuer(TENANT_B)
    elif attack == "issuer-of-a-tid-of-b":
        claims["tid"] = TENANT_B
    elif attack == "template":
        claims["iss"] = idp.url + "/{tenantid}/v2.0"
    else:
        claims.pop(attack.removeprefix("no-"))
    token = await idp.sign(claims)

    response = await acme.ag.client.post(
        "/v1/sso/device/token", json={"idp": acme.idp_id, "idToken": token, "nonce": nonce}
    )

    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "invalid_id_token"


async def test_the_control_token_of_tenant_a_is_accepted(acme: SsoOrg, idp: Idp) -> None:
    started = await acme.ag.client.post("/v1/sso/device/start", json={"idp": acme.idp_id})
    nonce = started.json()["nonce"]
    now = int(time.time())
    token = await idp.sign(
        {
            "iss": idp.tenant_issuer(TENANT_A),
            "tid": TENANT_A,
            "oid": str(uuid.uuid4()),
            "sub": "control",
            "aud": DEVICE_CLIENT,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "email": f"control@{CONTOSO}",
        }
    )

    response = await acme.ag.client.post(
        "/v1/sso/device/token", json={"idp": acme.idp_id, "idToken": token, "nonce": nonce}
    )

    assert response.status_code == 200, response.text


async def test_a_multi_tenant_issuer_needs_its_tenants(ag: Authgate, idp: Idp) -> None:
    tenant = await sso_org(ag, idp, "entra", domain=CONTOSO)

    response = await tenant.put_idp(
        type="entra",
        issuer=idp.organizations,
        clientId=CLIENT_ID,
        clientSecret=CLIENT_SECRET,
        domains=[CONTOSO],
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_idp_config"
    assert "tenants" in response.json()["error"]["message"]
