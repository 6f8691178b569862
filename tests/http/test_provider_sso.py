"""The provider's sign-in hands people of an organization with its own IdP to that IdP
(a real npm oidc-provider here) and brings them back to the app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from tests.e2e.provider_browser import Left, Page
from tests.http.conftest import BASE_URL, Authgate, running
from tests.http.provider_support import (
    REDIRECT,
    authorize_url,
    browser,
    exchange,
    id_claims,
    pkce,
    register,
)
from tests.peers.oidc_idp import Idp, start_idp
from tests.peers.sso import idp_clients, person, unique_login, with_okta


@pytest_asyncio.fixture(scope="module")
async def idp() -> AsyncIterator[Idp]:
    async with start_idp("okta", idp_clients()) as running_idp:
        yield running_idp


@pytest_asyncio.fixture
async def ag(tmp_path: Path) -> AsyncIterator[Authgate]:
    async with running(tmp_path, egress_allowed_hosts=("127.0.0.1",)) as instance:
        yield instance


async def test_an_sso_user_signs_in_to_the_app_through_the_organizations_idp(
    ag: Authgate, idp: Idp
) -> None:
    acme = await with_okta(ag, idp)
    app = await register(ag, acme.org)
    login = await person(acme, unique_login("ada"), name="Ada Lovelace")
    email = acme.email(login)
    verifier, challenge = pkce()
    async with browser(ag) as someone:
        to_idp = await someone.browse(
            authorize_url(app, challenge, state="via-idp", nonce="nn"), email=email, idp=acme.idp_id
        )
        assert isinstance(to_idp, Left), to_idp
        assert to_idp.url.startswith(idp.issuer)
        # The sign-in page offered the organization's IdP for this email's domain.
        assert f'value="{acme.idp_id}"' in someone.pages[-1].text
        back = await idp.sign_in(to_idp.url, login)
        assert back.startswith(BASE_URL + "/v1/sso/callback?")
        arrived = await someone.browse(back, decision="allow")
        assert isinstance(arrived, Left), arrived
    assert arrived.params["state"] == "via-idp"
    assert arrived.params["iss"] == BASE_URL
    tokens = (await exchange(ag, app, arrived.params["code"], verifier)).json()
    claims = await id_claims(ag, tokens["id_token"], app)
    assert claims["email"] == email
    assert claims["amr"] == ["fed"]
    assert claims["acr"].endswith("sso")
    assert claims["nonce"] == "nn"


async def test_the_idp_hand_off_cannot_be_finished_in_another_browser(
    ag: Authgate, idp: Idp
) -> None:
    acme = await with_okta(ag, idp)
    app = await register(ag, acme.org)
    login = await person(acme, unique_login("bo"))
    async with browser(ag) as victim, browser(ag, "198.51.100.9") as attacker:
        to_idp = await attacker.browse(
            authorize_url(app, pkce()[1]), email=acme.email(login), idp=acme.idp_id
        )
        assert isinstance(to_idp, Left)
        back = await idp.sign_in(to_idp.url, login)
        page = await victim.browse(back, decision="allow")
    assert isinstance(page, Page)
    assert page.status == 400
    assert "another browser" in page.text
    assert all(not p.url.startswith(REDIRECT) for p in victim.pages)


async def test_the_sign_in_pages_sso_client_cannot_be_used_from_outside(
    ag: Authgate, idp: Idp
) -> None:
    acme = await with_okta(ag, idp)
    verifier, challenge = pkce()
    started = await ag.client.get(
        "/v1/sso/start",
        params={
            "idp": acme.idp_id,
            "client_id": "authgate-provider",
            "redirect_uri": BASE_URL + "/oauth/signin/sso/return",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    assert started.status_code == 400
    assert "location" not in started.headers
    redeemed = await ag.client.post(
        "/v1/sso/token",
        data={
            "grant_type": "authorization_code",
            "code": "x" * 43,
            "client_id": "authgate-provider",
            "redirect_uri": BASE_URL + "/oauth/signin/sso/return",
            "code_verifier": verifier,
        },
    )
    assert redeemed.status_code == 401
    assert redeemed.json()["error"] == "invalid_client"
