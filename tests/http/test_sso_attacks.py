"""Attacks on brokered SSO (SECURITY.md "SSO federation"), against a real OpenID provider:
replayed and forged state, mix-up between two IdPs, swapped codes, PKCE and code reuse at
redemption, redirect URI variants, changed or removed IdPs, and RP-initiated logout."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote, urljoin

import httpx
import pytest
import pytest_asyncio

from tests.http.conftest import BASE_URL, Authgate, bearer, running
from tests.peers.oidc_idp import Idp, start_idp
from tests.peers.sso import (
    APP_REDIRECT,
    CLIENT_ID,
    CLIENT_SECRET,
    AppLogin,
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


@pytest_asyncio.fixture
async def beta(ag: Authgate, idp: Idp) -> SsoOrg:
    """Another organization whose IdP is the peer's other issuer (same signing keys)."""
    return await with_okta(ag, idp, issuer=idp.other_issuer)


async def _no_tokens_were_issued(ag: Authgate) -> None:
    assert all("refresh_token" not in response.text for response in ag.responses[-3:])


# --- state ---------------------------------------------------------------------------


async def test_a_replayed_callback_is_refused_without_a_redirect(acme: SsoOrg) -> None:
    login = await person(acme, unique_login())
    _, callback = await acme.to_callback(login)
    first = await acme.ag.client.get(callback)
    assert first.status_code == 302

    replayed = await acme.ag.client.get(callback)

    assert replayed.status_code == 400
    assert "location" not in replayed.headers
    assert "unknown, already used or expired" in replayed.text


@pytest.mark.parametrize(
    "query",
    ["state=forged&code=abc", "code=abc", "state=&code=abc", "state=" + "x" * 600 + "&code=abc"],
)
async def test_a_forged_or_missing_state_is_refused(acme: SsoOrg, query: str) -> None:
    response = await acme.ag.client.get(f"/v1/sso/callback?{query}")

    assert response.status_code == 400
    assert "location" not in response.headers


async def test_a_state_expires(acme: SsoOrg) -> None:
    login = await person(acme, unique_login())
    _, callback = await acme.to_callback(login)
    acme.ag.clock.advance(11 * 60)

    response = await acme.ag.client.get(callback)

    assert response.status_code == 400


async def test_a_code_of_another_login_cannot_complete_this_one(acme: SsoOrg) -> None:
    login = await person(acme, unique_login())
    first, first_callback = await acme.to_callback(login)
    _, second_callback = await acme.to_callback(login)
    swapped = (
        f"/v1/sso/callback?state={quote(query_of(first_callback)['state'])}"
        f"&code={quote(query_of(second_callback)['code'])}&iss={quote(acme.idp.issuer)}"
    )

    response = await acme.ag.client.get(swapped)

    assert response.status_code == 302
    answer = query_of(response.headers["location"])
    assert "code" not in answer
    assert answer["error_code"] == "sso_login_failed"  # the IdP refused the PKCE verifier
    assert answer["state"] == first.state


# --- mix-up (RFC 9207) -----------------------------------------------------------------


async def _beta_answer(beta: SsoOrg) -> dict[str, str]:
    login = await person(beta, unique_login("b"), issuer=beta.idp.other_issuer)
    _, callback = await beta.to_callback(login)
    return query_of(callback)


@pytest.mark.parametrize("iss", ["beta", "absent", "acme"])
async def test_a_login_started_with_one_idp_cannot_complete_with_another(
    acme: SsoOrg, beta: SsoOrg, iss: str
) -> None:
    app, url = await acme.start()
    acme_state = query_of(url)["state"]
    answer = await _beta_answer(beta)
    claimed = {"beta": answer["iss"], "acme": acme.idp.issuer, "absent": None}[iss]
    query = f"state={quote(acme_state)}&code={quote(answer['code'])}"
    if claimed is not None:
        query += f"&iss={quote(claimed)}"

    response = await acme.ag.client.get(f"/v1/sso/callback?{query}")

    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(APP_REDIRECT + "?")
    result = query_of(location)
    assert "code" not in result
    assert result["error_code"] == "sso_login_failed"
    assert result["state"] == app.state
    await _no_tokens_were_issued(acme.ag)


# --- redeeming the one-time code ------------------------------------------------------


async def test_a_reused_code_is_refused_and_ends_the_first_session(acme: SsoOrg) -> None:
    login = await person(acme, unique_login())
    app, answer = await acme.to_app(login)
    first = await acme.redeem(app, answer["code"])
    assert first.status_code == 200

    again = await acme.redeem(app, answer["code"])

    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    refreshed = await acme.ag.refresh(first.json()["refresh_token"])
    assert refreshed.status_code == 400
    assert (await acme.ag.me(first.json()["access_token"])).status_code == 401


@pytest.mark.parametrize(
    "override",
    [
        {"code_verifier": "w" * 43},
        {"code_verifier": ""},
        {"code_verifier": "short"},
        {"redirect_uri": APP_REDIRECT + "/"},
        {"redirect_uri": "http://127.0.0.1:8123/callback"},
        {"client_id": "another-client"},
        {"code": "not-the-code"},
    ],
    ids=["wrong-verifier", "no-verifier", "bad-verifier", "slash", "port", "client", "code"],
)
async def test_a_code_redeems_only_with_its_verifier_client_and_redirect_uri(
    acme: SsoOrg, override: dict[str, str]
) -> None:
    login = await person(acme, unique_login())
    app, answer = await acme.to_app(login)

    fields = dict(override)
    response = await acme.redeem(app, fields.pop("code", answer["code"]), **fields)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    if "code" not in override:
        # Spent by the failed attempt: the right verifier no longer helps.
        assert (await acme.redeem(app, answer["code"])).status_code == 400


async def test_a_code_expires_within_a_minute(acme: SsoOrg) -> None:
    login = await person(acme, unique_login())
    app, answer = await acme.to_app(login)
    acme.ag.clock.advance(61)

    response = await acme.redeem(app, answer["code"])

    assert response.status_code == 400


@pytest.mark.parametrize(
    "form",
    [
        {"grant_type": "password", "code": "x"},
        {"grant_type": "authorization_code"},
        {"grant_type": "authorization_code", "code": "x", "client_secret": "s"},
    ],
)
async def test_the_token_endpoint_refuses_other_requests(
    acme: SsoOrg, form: dict[str, str]
) -> None:
    response = await acme.ag.client.post("/v1/sso/token", data=form)

    assert response.status_code == 400
    assert response.json()["error"] in {"unsupported_grant_type", "invalid_request"}


@pytest.mark.parametrize(
    ("method", "challenge"),
    [("plain", "x" * 43), (None, None), ("S256", None), ("S256", "short"), ("S256", "=" * 43)],
)
async def test_start_requires_a_pkce_s256_challenge(
    acme: SsoOrg, method: str | None, challenge: str | None
) -> None:
    login = AppLogin("v" * 43, challenge or "")
    params = {"code_challenge_method": method, "code_challenge": challenge}
    path = login.start_path(acme.idp_id)
    path = path.split("&code_challenge=")[0] + "&state=" + login.state
    for name, value in params.items():
        if value is not None:
            path += f"&{name}={quote(value)}"

    response = await acme.ag.client.get(path)

    assert response.status_code == 302
    answer = query_of(response.headers["location"])
    assert response.headers["location"].startswith(APP_REDIRECT + "?")
    assert answer["error"] == "invalid_request"
    assert answer["error_code"] == "invalid_sso_request"


# --- redirect URIs ---------------------------------------------------------------------

BAD_REDIRECTS = [
    "http://127.0.0.1/callback/",
    "http://127.0.0.1/Callback",
    "HTTP://127.0.0.1/callback",
    "http://127.0.0.1/callback?extra=1",
    "http://127.0.0.1/callback#fragment",
    "http://127.0.0.1/callback/../callback",
    "http://127.0.0.1/%63allback",
    "http://127.0.0.1/callback%2F..%2F",
    "http://127.0.0.1.evil.example/callback",
    "http://127.0.0.1@evil.example/callback",
    "http://evil.example@127.0.0.1/callback",
    "http://localhost/callback",
    "https://127.0.0.1/callback",
    "http://127.0.0.1:0/callback",
    "http://127.0.0.1:99999/callback",
    "http://127.0.0.1:80x/callback",
    "javascript:alert(1)//http://127.0.0.1/callback",
    "data:text/html,<script>alert(1)</script>",
    "//127.0.0.1/callback",
    "http://127.0.0.1/callback\r\nSet-Cookie: x=1",
    "",
]


@pytest.mark.parametrize("redirect_uri", BAD_REDIRECTS)
async def test_an_unregistered_redirect_uri_gets_a_page_never_a_redirect(
    acme: SsoOrg, redirect_uri: str
) -> None:
    login = AppLogin(*pkce(), redirect_uri=redirect_uri)

    response = await acme.ag.client.get(login.start_path(acme.idp_id))

    assert response.status_code in (400, 422)
    assert "location" not in response.headers


async def test_an_unknown_client_gets_a_page(acme: SsoOrg) -> None:
    login = AppLogin(*pkce())
    path = login.start_path(acme.idp_id).replace("client_id=authgate-device", "client_id=other")

    response = await acme.ag.client.get(path)

    assert response.status_code == 400
    assert "location" not in response.headers


async def test_a_loopback_redirect_uri_may_use_any_port(acme: SsoOrg) -> None:
    login = await person(acme, unique_login())
    app = AppLogin(*pkce(), redirect_uri="http://127.0.0.1:53123/callback")
    started = await acme.ag.client.get(app.start_path(acme.idp_id))
    assert started.status_code == 302
    back = await acme.idp.sign_in(started.headers["location"], login)

    response = await acme.ag.client.get(back.removeprefix(BASE_URL))

    assert response.headers["location"].startswith("http://127.0.0.1:53123/callback?code=")
    code = query_of(response.headers["location"])["code"]
    assert (await acme.redeem(app, code)).status_code == 200


# --- a changed or removed IdP ends its sessions ------------------------------------------


async def test_changing_the_idp_ends_its_sessions_and_nothing_else(acme: SsoOrg) -> None:
    login = await person(acme, unique_login())
    tokens = await acme.sign_in(login)
    app, pending = await acme.to_app(login)

    changed = await acme.put_idp(
        type="okta",
        issuer=acme.idp.issuer,
        clientId=CLIENT_ID,
        domains=[acme.domain],
        scopes=["openid", "email"],
    )
    assert changed.status_code == 200, changed.text

    assert (await acme.ag.refresh(tokens["refresh_token"])).status_code == 400
    assert (await acme.ag.me(tokens["access_token"])).status_code == 401
    assert (await acme.redeem(app, pending["code"])).status_code == 400
    assert (await acme.ag.me(acme.owner["authorization"].split()[1])).status_code == 200
    # Without a new secret the stored one is kept: the next login works.
    assert (await acme.ag.me((await acme.sign_in(login))["access_token"])).status_code == 200


async def test_a_login_in_flight_when_the_idp_changes_does_not_complete(acme: SsoOrg) -> None:
    login = await person(acme, unique_login())
    _, callback = await acme.to_callback(login)
    changed = await acme.put_idp(
        type="okta", issuer=acme.idp.issuer, clientId=CLIENT_ID, domains=[acme.domain]
    )
    assert changed.status_code == 200, changed.text

    response = await acme.ag.client.get(callback)

    assert query_of(response.headers["location"])["error_code"] == "invalid_sso_state"


async def test_removing_the_idp_ends_its_sessions(acme: SsoOrg) -> None:
    login = await person(acme, unique_login())
    tokens = await acme.sign_in(login)

    removed = await acme.ag.client.delete(f"/v1/orgs/{acme.slug}/sso/idps/main", headers=acme.owner)

    assert removed.status_code == 204
    assert (await acme.ag.refresh(tokens["refresh_token"])).status_code == 400
    assert (await acme.ag.me(tokens["access_token"])).status_code == 401
    started = await acme.ag.client.get(AppLogin(*pkce()).start_path(acme.idp_id))
    assert query_of(started.headers["location"])["error_code"] == "unknown_idp"


# --- RP-initiated logout -----------------------------------------------------------------


async def test_logout_ends_the_session_and_points_at_the_idps_end_session(acme: SsoOrg) -> None:
    login = await person(acme, unique_login())
    async with httpx.AsyncClient(follow_redirects=False) as browser:
        app, url = await acme.start()
        back = await acme.idp.sign_in(url, login, browser=browser)
        redirected = await acme.ag.client.get(back.removeprefix(BASE_URL))
        tokens = (await acme.redeem(app, query_of(redirected.headers["location"])["code"])).json()
        # The IdP remembers the browser: a second login needs no password.
        _, again = await acme.start()
        remembered = await browser.get(again)
        while remembered.is_redirect:
            location = urljoin(str(remembered.url), remembered.headers["location"])
            if location.startswith(BASE_URL):
                break
            remembered = await browser.get(location)
        assert location.startswith(BASE_URL + "/v1/sso/callback?code=")

        response = await acme.ag.client.post(
            "/v1/sso/logout",
            headers=bearer(tokens["access_token"]),
            json={"postLogoutRedirectUri": APP_REDIRECT},
        )

        assert response.status_code == 200, response.text
        end = response.json()["endSessionUrl"]
        assert end.startswith(acme.idp.issuer + "/session/end?")
        assert query_of(end) == {"client_id": CLIENT_ID, "post_logout_redirect_uri": APP_REDIRECT}
        assert (await acme.ag.refresh(tokens["refresh_token"])).status_code == 400
        landed = await acme.idp.sign_in(end, login, browser=browser)
        assert landed.startswith(APP_REDIRECT)
        _, fresh = await acme.start()
        asked = await browser.get(fresh)
        while asked.is_redirect:
            asked = await browser.get(urljoin(str(asked.url), asked.headers["location"]))
        assert asked.status_code == 200
        assert 'name="login"' in asked.text  # signed out at the IdP too


async def test_logout_of_a_password_session_has_no_idp_to_end(acme: SsoOrg) -> None:
    response = await acme.ag.client.post("/v1/sso/logout", headers=acme.owner)

    assert response.status_code == 200
    assert response.json() == {"endSessionUrl": None}


async def test_logout_refuses_an_unregistered_post_logout_redirect_uri(acme: SsoOrg) -> None:
    login = await person(acme, unique_login())
    tokens = await acme.sign_in(login)

    response = await acme.ag.client.post(
        "/v1/sso/logout",
        headers=bearer(tokens["access_token"]),
        json={"postLogoutRedirectUri": "https://evil.example/"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_redirect_uri"
    assert (await acme.ag.me(tokens["access_token"])).status_code == 200


async def test_no_response_holds_the_client_secret(acme: SsoOrg) -> None:
    await acme.sign_in(await person(acme, unique_login()))
    assert all(CLIENT_SECRET not in r.text for r in acme.ag.responses)
