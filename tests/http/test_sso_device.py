"""The device-run loop against a real OpenID provider (Okta-like): the device gets a nonce,
runs the authorization code flow with the IdP itself, and exchanges the ID token. Every
ID-token check of SECURITY.md, with tokens validly signed by the IdP's own key (so the
check under test is the one that refuses), and the IdP's key rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlencode

import httpx
import pytest
import pytest_asyncio
from joserfc import jws
from joserfc.jwk import RSAKey

from tests.http.conftest import Authgate, running
from tests.peers.oidc_idp import Idp, start_idp
from tests.peers.sso import (
    CALLBACK,
    CLIENT_ID,
    CLIENT_SECRET,
    DEVICE_CLIENT,
    DEVICE_REDIRECT,
    SsoOrg,
    idp_clients,
    person,
    pkce,
    query_of,
    unique_login,
    with_okta,
)

EGRESS = {"egress_allowed_hosts": ("127.0.0.1",)}


@pytest_asyncio.fixture(scope="module")
async def idp() -> AsyncIterator[Idp]:
    async with start_idp("okta", idp_clients()) as running_idp:
        yield running_idp


@pytest_asyncio.fixture
async def ag(tmp_path: Path) -> AsyncIterator[Authgate]:
    async with running(tmp_path, **EGRESS) as instance:
        yield instance


@pytest_asyncio.fixture
async def acme(ag: Authgate, idp: Idp) -> SsoOrg:
    return await with_okta(ag, idp)


async def device_start(tenant: SsoOrg, idp_id: str | None = None) -> dict[str, Any]:
    response = await tenant.ag.client.post(
        "/v1/sso/device/start", json={"idp": idp_id or tenant.idp_id}
    )
    assert response.status_code == 200, response.text
    started: dict[str, Any] = response.json()
    return started


async def idp_id_token(
    idp: Idp,
    issuer: str,
    login: str,
    nonce: str | None,
    *,
    client_id: str = DEVICE_CLIENT,
) -> str:
    """Run the authorization code flow with the IdP as the device (or, with CLIENT_ID, as
    authgate's confidential client): the ID token it issues."""
    verifier, challenge = pkce()
    redirect = DEVICE_REDIRECT if client_id == DEVICE_CLIENT else CALLBACK
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect,
        "scope": "openid email profile",
        "state": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if nonce is not None:
        params["nonce"] = nonce
    back = await idp.sign_in(f"{issuer}/auth?{urlencode(params)}", login)
    assert back.startswith(redirect), back
    form = {
        "grant_type": "authorization_code",
        "code": query_of(back)["code"],
        "redirect_uri": redirect,
        "code_verifier": verifier,
    }
    auth = None
    if client_id == DEVICE_CLIENT:
        form["client_id"] = DEVICE_CLIENT
    else:
        auth = (quote_plus(CLIENT_ID), quote_plus(CLIENT_SECRET))  # RFC 6749 §2.3.1
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{issuer}/token", data=form, auth=auth)
    assert response.status_code == 200, response.text
    return str(response.json()["id_token"])


async def exchange(
    tenant: SsoOrg, id_token: str, nonce: str, idp_id: str | None = None
) -> httpx.Response:
    return await tenant.ag.client.post(
        "/v1/sso/device/token",
        json={"idp": idp_id or tenant.idp_id, "idToken": id_token, "nonce": nonce},
    )


async def test_the_device_runs_the_loop_and_exchanges_the_id_token(acme: SsoOrg) -> None:
    login = await person(acme, unique_login("dev"))
    started = await device_start(acme)

    assert started["clientId"] == DEVICE_CLIENT
    assert started["issuer"] == acme.idp.issuer
    assert started["authorizationEndpoint"] == acme.idp.issuer + "/auth"
    assert started["tokenEndpoint"] == acme.idp.issuer + "/token"
    assert started["expiresIn"] == 600
    assert len(started["nonce"]) >= 40
    token = await idp_id_token(acme.idp, acme.idp.issuer, login, started["nonce"])
    response = await exchange(acme, token, started["nonce"])

    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["organization"] == acme.slug
    assert (await acme.ag.me(tokens["access_token"])).status_code == 200


async def test_discovery_gives_the_device_what_it_needs(acme: SsoOrg) -> None:
    response = await acme.ag.client.post("/v1/sso/discover", json={"email": acme.email("x")})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sso"] is True
    assert body["domain"] == acme.domain
    [provider] = body["providers"]
    assert provider["id"] == acme.idp_id
    assert provider["organization"] == acme.slug
    assert provider["type"] == "okta"
    assert provider["start"] == f"/v1/sso/start?idp={acme.idp_id}"
    assert provider["device"]["clientId"] == DEVICE_CLIENT
    assert provider["device"]["authorizationEndpoint"] == acme.idp.issuer + "/auth"
    assert CLIENT_SECRET not in response.text
    other = await acme.ag.client.post("/v1/sso/discover", json={"email": "a@elsewhere.test"})
    assert other.json() == {
        "domain": "elsewhere.test",
        "sso": False,
        "passwordAllowed": True,
        "providers": [],
    }


async def test_a_nonce_works_once(acme: SsoOrg) -> None:
    login = await person(acme, unique_login())
    started = await device_start(acme)
    token = await idp_id_token(acme.idp, acme.idp.issuer, login, started["nonce"])
    assert (await exchange(acme, token, started["nonce"])).status_code == 200

    replayed = await exchange(acme, token, started["nonce"])

    assert replayed.status_code == 400
    assert replayed.json()["error"]["code"] == "invalid_sso_state"


async def test_a_nonce_expires(acme: SsoOrg) -> None:
    login = await person(acme, unique_login())
    started = await device_start(acme)
    token = await idp_id_token(acme.idp, acme.idp.issuer, login, started["nonce"])
    acme.ag.clock.advance(601)

    assert (await exchange(acme, token, started["nonce"])).status_code == 400


async def test_a_nonce_authgate_did_not_issue_is_refused(acme: SsoOrg) -> None:
    login = await person(acme, unique_login())
    nonce = secrets.token_urlsafe(32)
    token = await idp_id_token(acme.idp, acme.idp.issuer, login, nonce)

    response = await exchange(acme, token, nonce)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_sso_state"


async def test_a_token_without_the_nonce_is_refused_and_spends_it(acme: SsoOrg) -> None:
    login = await person(acme, unique_login())
    started = await device_start(acme)
    token = await idp_id_token(acme.idp, acme.idp.issuer, login, None)

    response = await exchange(acme, token, started["nonce"])

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_id_token"
    good = await idp_id_token(acme.idp, acme.idp.issuer, login, started["nonce"])
    assert (await exchange(acme, good, started["nonce"])).status_code == 400


async def test_another_issuer_with_the_same_keys_is_refused(acme: SsoOrg) -> None:
    """A second provider instance: valid signatures, the wrong issuer."""
    login = await person(acme, unique_login(), issuer=acme.idp.other_issuer)
    started = await device_start(acme)
    token = await idp_id_token(acme.idp, acme.idp.other_issuer, login, started["nonce"])

    response = await exchange(acme, token, started["nonce"])

    assert response.status_code == 401
    assert "issuer" in response.json()["error"]["message"]


async def test_a_token_issued_to_authgates_own_client_is_not_the_devices(acme: SsoOrg) -> None:
    login = await person(acme, unique_login())
    started = await device_start(acme)
    token = await idp_id_token(
        acme.idp, acme.idp.issuer, login, started["nonce"], client_id=CLIENT_ID
    )

    response = await exchange(acme, token, started["nonce"])

    assert response.status_code == 401
    assert "(aud)" in response.json()["error"]["message"]


async def test_a_nonce_of_another_idp_is_refused(acme: SsoOrg, ag: Authgate, idp: Idp) -> None:
    beta = await with_okta(ag, idp, issuer=idp.other_issuer)
    login = await person(acme, unique_login())
    started = await device_start(beta)
    token = await idp_id_token(acme.idp, acme.idp.issuer, login, started["nonce"])

    response = await exchange(acme, token, started["nonce"])

    assert response.status_code == 400


# --- every claim check, with the IdP's own signature -----------------------------------


def _claims(tenant: SsoOrg, login: str, nonce: str, /, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": tenant.idp.issuer,
        "sub": login,
        "aud": DEVICE_CLIENT,
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        "email": tenant.email(login),
        "email_verified": True,
    }
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


CLAIM_ATTACKS: dict[str, dict[str, Any]] = {
    "expired": {"exp": -120},
    "exp-as-text": {"exp": "tomorrow"},
    "no-exp": {"exp": None},
    "issued-in-the-future": {"iat": 600},
    "issued-long-ago": {"iat": -3600},
    "no-iat": {"iat": None},
    "not-yet-valid": {"nbf": 600},
    "no-iss": {"iss": None},
    "other-iss": {"iss": "other"},
    "iss-with-a-slash": {"iss": "slash"},
    "other-aud": {"aud": "someone-else"},
    "no-aud": {"aud": None},
    "aud-list-without-azp": {"aud": [DEVICE_CLIENT, "someone-else"]},
    "azp-of-another": {"azp": "someone-else"},
    "no-nonce": {"nonce": None},
    "other-nonce": {"nonce": "not-the-nonce"},
    "no-sub": {"sub": None},
    "long-sub": {"sub": "s" * 300},
}
_RELATIVE = {"exp", "iat", "nbf"}


@pytest.mark.parametrize("attack", list(CLAIM_ATTACKS))
async def test_a_validly_signed_token_failing_a_claim_check_is_refused(
    acme: SsoOrg, attack: str
) -> None:
    login = await person(acme, unique_login())
    started = await device_start(acme)
    changes = {
        name: (int(time.time()) + value if name in _RELATIVE and isinstance(value, int) else value)
        for name, value in CLAIM_ATTACKS[attack].items()
    }
    if changes.get("iss") == "other":
        changes["iss"] = acme.idp.other_issuer
    if changes.get("iss") == "slash":
        changes["iss"] = acme.idp.issuer + "/"
    token = await acme.idp.sign(_claims(acme, login, started["nonce"], **changes))

    response = await exchange(acme, token, started["nonce"])

    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "invalid_id_token"
    assert "refresh_token" not in response.text


async def test_the_same_claims_validly_signed_are_accepted(acme: SsoOrg) -> None:
    """The control for the attacks above: the unchanged claims pass."""
    login = await person(acme, unique_login())
    started = await device_start(acme)
    token = await acme.idp.sign(_claims(acme, login, started["nonce"]))

    assert (await exchange(acme, token, started["nonce"])).status_code == 200


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(claims).encode())
    return f"{head}.{body}.{_b64(signature)}"


async def _forgeries(acme: SsoOrg, login: str, nonce: str) -> dict[str, str]:
    claims = _claims(acme, login, nonce)
    genuine = await acme.idp.sign(claims)
    head, body, signature = genuine.split(".")
    kid = json.loads(base64.urlsafe_b64decode(head + "=="))["kid"]
    async with httpx.AsyncClient() as client:
        jwks = (await client.get(f"{acme.idp.issuer}/jwks")).json()
    public = json.dumps(jwks["keys"][0]).encode()
    hs_input = f"{_b64(json.dumps({'alg': 'HS256', 'kid': kid}).encode())}.{body}"
    tampered = dict(claims, email=acme.email("admin"))
    return {
        "alg-none": _unsigned({"alg": "none", "kid": kid}, claims),
        "hs256-with-the-public-key": hs_input
        + "."
        + _b64(hmac.new(public, hs_input.encode(), hashlib.sha256).digest()),
        "tampered-payload": f"{head}.{_b64(json.dumps(tampered).encode())}.{signature}",
        "truncated-signature": f"{head}.{body}.{signature[:-8]}",
        "no-signature": f"{head}.{body}.",
        "two-parts": f"{head}.{body}",
        "access-token-typ": await acme.idp.sign(claims, {"typ": "at+jwt"}),
        "critical-header": await acme.idp.sign(claims, {"crit": ["exp"]}),
        "not-base64": f"{head}.!!!.{signature}",
        "payload-not-an-object": f"{head}.{_b64(b'[1]')}.{signature}",
    }


FORGERIES = [
    "alg-none",
    "hs256-with-the-public-key",
    "tampered-payload",
    "truncated-signature",
    "no-signature",
    "two-parts",
    "access-token-typ",
    "critical-header",
    "not-base64",
    "payload-not-an-object",
]


@pytest.mark.parametrize("forgery", FORGERIES)
async def test_a_forged_or_malformed_token_is_refused(acme: SsoOrg, forgery: str) -> None:
    login = await person(acme, unique_login())
    started = await device_start(acme)
    token = (await _forgeries(acme, login, started["nonce"]))[forgery]

    response = await exchange(acme, token, started["nonce"])

    assert response.status_code in (401, 422), response.text
    assert "refresh_token" not in response.text


# --- the IdP's keys ----------------------------------------------------------------------


async def test_unknown_kids_cause_one_rate_limited_refetch(acme: SsoOrg) -> None:
    login = await person(acme, unique_login())
    warm = await device_start(acme)
    good = await idp_id_token(acme.idp, acme.idp.issuer, login, warm["nonce"])
    assert (await exchange(acme, good, warm["nonce"])).status_code == 200
    acme.ag.clock.advance(61)
    before = await acme.idp.jwks_fetches(acme.idp.issuer)
    ours = RSAKey.generate_key(2048, parameters={"kid": "made-up"})

    for _ in range(3):
        started = await device_start(acme)
        header = {"alg": "RS256", "kid": f"made-up-{secrets.token_hex(4)}"}
        claims = json.dumps(_claims(acme, login, started["nonce"]))
        forged = jws.serialize_compact(header, claims, ours)
        response = await exchange(acme, forged, started["nonce"])
        assert response.status_code == 401
        assert "does not publish" in response.json()["error"]["message"]

    assert await acme.idp.jwks_fetches(acme.idp.issuer) == before + 1


async def test_a_rotated_idp_key_is_fetched_and_accepted(acme: SsoOrg) -> None:
    login = await person(acme, unique_login())
    first = await device_start(acme)
    token = await idp_id_token(acme.idp, acme.idp.issuer, login, first["nonce"])
    assert (await exchange(acme, token, first["nonce"])).status_code == 200
    fetched = await acme.idp.jwks_fetches(acme.idp.issuer)
    new_kid = await acme.idp.rotate_keys()

    # Within a minute of the last fetch the unknown kid is not fetched again...
    soon = await device_start(acme)
    rotated = await idp_id_token(acme.idp, acme.idp.issuer, login, soon["nonce"])
    assert json.loads(base64.urlsafe_b64decode(rotated.split(".")[0] + "=="))["kid"] == new_kid
    assert (await exchange(acme, rotated, soon["nonce"])).status_code == 401
    assert await acme.idp.jwks_fetches(acme.idp.issuer) == fetched
    # ... and after it, once.
    acme.ag.clock.advance(61)
    later = await device_start(acme)
    token = await idp_id_token(acme.idp, acme.idp.issuer, login, later["nonce"])
    assert (await exchange(acme, token, later["nonce"])).status_code == 200
    assert await acme.idp.jwks_fetches(acme.idp.issuer) == fetched + 1
