"""The provider's sign-in hands people of an organization with its own IdP to that IdP
(a real npm oidc-provider here) and brings them back to the app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from authgate.identity.models import Role
from authgate.provider.models import GrantType
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


async def test_an_sso_user_allows_an_apps_device_through_the_organizations_idp(
    ag: Authgate, idp: Idp
) -> None:
    acme = await with_okta(ag, idp)
    app = await register(
        ag, acme.org, public=True, grants=(GrantType.DEVICE_CODE, GrantType.REFRESH_TOKEN)
    )
    login = await person(acme, unique_login("dee"))
    started = (
        await ag.client.post(
            "/oauth/device_authorization", data={"client_id": app.client_id, "scope": "openid"}
        )
    ).json()
    async with browser(ag) as someone:
        page = await someone.browse(started["verification_uri_complete"])
        assert isinstance(page, Page)
        sso_form = next(form for form in page.forms if form.action == "/device/sso")
        to_idp = await someone.submit(page, sso_form, email=acme.email(login))
        assert isinstance(to_idp, Left), to_idp
        back = await idp.sign_in(to_idp.url, login)
        done = await someone.browse(back)
    assert isinstance(done, Page)
    assert done.status == 200, done.text
    assert "signed in" in done.text
    tokens = await ag.client.post(
        "/oauth/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": started["device_code"],
            "client_id": app.client_id,
        },
    )
    assert tokens.status_code == 200, tokens.text
    me = (await ag.me(tokens.json()["access_token"])).json()
    assert me["email"] == acme.email(login)


async def test_the_device_pages_sso_return_works_only_in_the_browser_that_started_it(
    ag: Authgate, idp: Idp
) -> None:
    acme = await with_okta(ag, idp)
    app = await register(
        ag, acme.org, public=True, grants=(GrantType.DEVICE_CODE, GrantType.REFRESH_TOKEN)
    )
    login = await person(acme, unique_login("eve"))
    started = (
        await ag.client.post("/oauth/device_authorization", data={"client_id": app.client_id})
    ).json()
    async with browser(ag, "198.51.100.9") as attacker, browser(ag) as victim:
        to_idp = await attacker.client.post(
            f"{BASE_URL}/device/sso",
            data={"user_code": started["user_code"], "email": acme.email(login)},
        )
        assert to_idp.status_code == 303
        back = await idp.sign_in(to_idp.headers["location"], login)
        page = await victim.browse(back)
    assert isinstance(page, Page)
    assert page.status == 403
    polled = await ag.client.post(
        "/oauth/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": started["device_code"],
            "client_id": app.client_id,
        },
    )
    assert polled.json()["error"] == "authorization_pending"


async def test_a_sign_in_through_one_organizations_idp_does_not_serve_one_that_enforces_its_own(
    ag: Authgate, idp: Idp
) -> None:
    acme = await with_okta(ag, idp)
    beta = await with_okta(ag, idp)
    await beta.settings(enforceSso=True)
    acme_app, beta_app = await register(ag, acme.org), await register(ag, beta.org)
    login = await person(acme, unique_login("multi"))
    async with browser(ag) as someone:
        to_idp = await someone.browse(
            authorize_url(acme_app, pkce()[1]), email=acme.email(login), idp=acme.idp_id
        )
        assert isinstance(to_idp, Left)
        arrived = await someone.browse(await idp.sign_in(to_idp.url, login), decision="allow")
        assert isinstance(arrived, Left)
        assert "code" in arrived.params
        user = await ag.services.deps.store.users.get_by_email(acme.email(login))
        assert user is not None
        await ag.member(beta.org, user, Role.USER)
        other = await someone.browse(authorize_url(beta_app, pkce()[1], prompt="none"))
        assert isinstance(other, Left)
        assert other.params["error"] == "login_required"
        same = await someone.browse(authorize_url(acme_app, pkce()[1], prompt="none"))
        assert isinstance(same, Left)
        assert "code" in same.params
