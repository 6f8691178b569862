"""authgate as an OpenID provider, in process: the authorization code flow through the
sign-in and consent pages, tokens, userinfo, refresh, logout, PAR and the other grants."""

from __future__ import annotations

import base64
import hashlib

import pytest

from authgate.identity.models import Role
from tests.http.conftest import BASE_URL, PASSWORD, Authgate, bearer
from tests.http.provider_support import (
    LOGOUT_REDIRECT,
    REDIRECT,
    App,
    authorize_url,
    browser,
    exchange,
    id_claims,
    pkce,
    register,
)


async def _member(ag: Authgate, prefix: str = "acme") -> tuple[App, str]:
    org, owner = await ag.org_with_owner(prefix)
    return await register(ag, org), owner.email


@pytest.mark.parametrize("algorithm", ["RS256", "EdDSA"])
async def test_the_code_flow_signs_in_asks_consent_and_issues_verified_tokens(
    ag: Authgate, algorithm: str
) -> None:
    org, owner = await ag.org_with_owner()
    app = await register(ag, org, algorithm=algorithm)
    verifier, challenge = pkce()
    url = authorize_url(app, challenge, state="s-1", nonce="n-1")
    async with browser(ag) as person:
        left = await person.sign_in(url, owner.email, PASSWORD)
        assert [p.status for p in person.pages] == [200, 200, 200]  # email, password, consent
        assert "Allow Planner?" in person.pages[-1].text
    assert left.address == REDIRECT
    assert left.params["state"] == "s-1"
    assert left.params["iss"] == BASE_URL
    response = await exchange(ag, app, left.params["code"], verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["refresh_token"]
    assert "organization" not in tokens
    claims = await id_claims(ag, tokens["id_token"], app)
    assert claims["sub"] == owner.id
    assert claims["nonce"] == "n-1"
    assert claims["email"] == owner.email
    assert claims["azp"] == app.client_id
    assert claims["amr"] == ["pwd"]
    assert claims["acr"].endswith("password")
    assert abs(claims["auth_time"] - claims["iat"]) < 5
    assert claims["sid"]
    digest = (hashlib.sha256 if algorithm == "RS256" else hashlib.sha512)(
        tokens["access_token"].encode()
    ).digest()
    expected = base64.urlsafe_b64encode(digest[: len(digest) // 2]).decode().rstrip("=")
    assert claims["at_hash"] == expected
    events = await ag.services.deps.store.audit.list(org.id)
    actions = {event.action for event in events}
    assert {"web.signin", "consent.grant", "signin"} <= actions
    assert PASSWORD not in str(events)
    assert tokens["refresh_token"] not in str(events)
    info = await ag.client.get("/oauth/userinfo", headers=bearer(tokens["access_token"]))
    assert info.status_code == 200
    assert info.json() == {
        "sub": owner.id,
        "name": owner.display_name,
        "preferred_username": owner.email,
        "email": owner.email,
        "email_verified": owner.email_verified,
    }


async def test_a_signed_in_person_with_consent_goes_straight_back_to_the_app(ag: Authgate) -> None:
    app, email = await _member(ag)
    async with browser(ag) as person:
        await person.sign_in(authorize_url(app, pkce()[1]), email, PASSWORD)
        pages = len(person.pages)
        again = await person.browse(authorize_url(app, pkce()[1], prompt="none"))
        assert len(person.pages) == pages  # no page shown
        assert not isinstance(again, type(person.pages[0]))
        assert again.params["code"]
        assert again.params["iss"] == BASE_URL  # type: ignore[union-attr]
        # prompt=consent asks again; prompt=login asks for the password again.
        asked = await person.browse(authorize_url(app, pkce()[1], prompt="consent"))
        assert "Allow Planner?" in asked.text  # type: ignore[union-attr]
        fresh = await person.browse(authorize_url(app, pkce()[1], prompt="login"))
        assert 'name="email"' in fresh.text  # type: ignore[union-attr]


async def test_prompt_none_answers_login_then_consent_required(ag: Authgate) -> None:
    app, email = await _member(ag)
    async with browser(ag) as person:
        nobody = await person.browse(authorize_url(app, pkce()[1], prompt="none", state="x"))
        assert nobody.params == {  # type: ignore[union-attr]
            "error": "login_required",
            "error_description": nobody.params["error_description"],  # type: ignore[union-attr]
            "state": "x",
            "iss": BASE_URL,
        }
        await person.sign_in(authorize_url(app, pkce()[1]), email, PASSWORD, decision="deny")
        other = authorize_url(app, pkce()[1], prompt="none")
        answer = await person.browse(other)
        assert answer.params["error"] == "consent_required"  # type: ignore[union-attr]


async def test_max_age_asks_for_a_fresh_sign_in(ag: Authgate) -> None:
    app, email = await _member(ag)
    async with browser(ag) as person:
        await person.sign_in(authorize_url(app, pkce()[1]), email, PASSWORD)
        ag.clock.advance(120)
        stale = await person.browse(authorize_url(app, pkce()[1], max_age="60", prompt="none"))
        assert stale.params["error"] == "login_required"  # type: ignore[union-attr]
        fine = await person.browse(authorize_url(app, pkce()[1], max_age="600", prompt="none"))
        assert "code" in fine.params  # type: ignore[union-attr]


async def test_denying_consent_tells_the_app(ag: Authgate) -> None:
    app, email = await _member(ag)
    async with browser(ag) as person:
        left = await person.sign_in(authorize_url(app, pkce()[1], state="d"), email, PASSWORD,
                                    decision="deny")  # fmt: skip
    assert left.params["error"] == "access_denied"
    assert left.params["state"] == "d"
    assert "code" not in left.params


async def test_only_members_of_the_apps_organization_may_use_it(ag: Authgate) -> None:
    app, _ = await _member(ag)
    other_org, stranger = await ag.org_with_owner("other")
    denied_member = await ag.user("denied@acme.test")
    await ag.member(other_org, denied_member, Role.USER)
    async with browser(ag) as person:
        left = await person.sign_in(authorize_url(app, pkce()[1]), stranger.email, PASSWORD)
    assert left.params["error"] == "access_denied"


async def test_wrong_password_stays_on_the_page_and_says_nothing_about_the_account(
    ag: Authgate,
) -> None:
    app, email = await _member(ag)
    texts = []
    for who in (email, "nobody@acme.test"):
        async with browser(ag) as person:
            page = await person.browse(
                authorize_url(app, pkce()[1]), email=who, password="wrong-pass-1"
            )
            assert page.status == 401  # type: ignore[union-attr]
            texts.append(page.text.replace(who, "EMAIL"))  # type: ignore[union-attr]
    assert (
        texts[0].split('name="request" value="')[0] == texts[1].split('name="request" value="')[0]
    )


async def test_refresh_rotates_and_logout_ends_the_apps_session(ag: Authgate) -> None:
    app, email = await _member(ag)
    verifier, challenge = pkce()
    async with browser(ag) as person:
        left = await person.sign_in(authorize_url(app, challenge), email, PASSWORD)
        tokens = (await exchange(ag, app, left.params["code"], verifier)).json()
        form = app.form(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
        rotated = await ag.client.post("/oauth/token", data=form, headers=app.auth())
        assert rotated.status_code == 200
        assert rotated.json()["refresh_token"]
        no_secret = await ag.client.post(
            "/oauth/token",
            data={
                **form,
                "refresh_token": rotated.json()["refresh_token"],
                "client_id": app.client_id,
            },
        )
        assert no_secret.status_code == 401
        assert no_secret.json()["error"] == "invalid_client"
        out = await person.browse(
            f"{BASE_URL}/oauth/logout?id_token_hint={tokens['id_token']}"
            f"&post_logout_redirect_uri={LOGOUT_REDIRECT}&state=bye"
        )
        assert out.url == f"{LOGOUT_REDIRECT}?state=bye"  # type: ignore[union-attr]
        after = await ag.client.post(
            "/oauth/token",
            data=app.form(
                grant_type="refresh_token", refresh_token=rotated.json()["refresh_token"]
            ),
            headers=app.auth(),
        )
        assert after.status_code == 400
        assert after.json()["error"] == "invalid_grant"
        info = await ag.client.get(
            "/oauth/userinfo", headers=bearer(rotated.json()["access_token"])
        )
        assert info.status_code == 401
        again = await person.browse(authorize_url(app, pkce()[1], prompt="none"))
        assert again.params["error"] == "login_required"  # type: ignore[union-attr]


async def test_logout_without_a_hint_asks_first(ag: Authgate) -> None:
    app, email = await _member(ag)
    async with browser(ag) as person:
        await person.sign_in(authorize_url(app, pkce()[1]), email, PASSWORD)
        page = await person.browse(f"{BASE_URL}/oauth/logout")
        assert "Sign out?" in page.text  # type: ignore[union-attr]
        still = await person.browse(authorize_url(app, pkce()[1], prompt="none"))
        assert "code" in still.params  # type: ignore[union-attr]
        done = await person.browse(f"{BASE_URL}/oauth/logout", logout=True)
        assert "signed out" in done.text  # type: ignore[union-attr]
        gone = await person.browse(authorize_url(app, pkce()[1], prompt="none"))
        assert gone.params["error"] == "login_required"  # type: ignore[union-attr]


async def test_pushed_requests_work_once_and_only_for_their_client(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    app = await register(ag, org)
    other = await register(ag, org)
    verifier, challenge = pkce()
    form = {
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "openid email",
        "state": "par",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    pushed = await ag.client.post("/oauth/par", data=form, headers=app.auth())
    assert pushed.status_code == 201, pushed.text
    request_uri = pushed.json()["request_uri"]
    assert request_uri.startswith("urn:ietf:params:oauth:request_uri:")
    assert pushed.json()["expires_in"] > 0
    bad = await ag.client.post("/oauth/par", data={**form, "scope": "admin"}, headers=app.auth())
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_scope"
    async with browser(ag) as person:
        stolen = await person.browse(
            f"{BASE_URL}/oauth/authorize?client_id={other.client_id}&request_uri={request_uri}"
        )
        assert stolen.status == 400  # type: ignore[union-attr]
    pushed = await ag.client.post("/oauth/par", data=form, headers=app.auth())
    request_uri = pushed.json()["request_uri"]
    url = f"{BASE_URL}/oauth/authorize?client_id={app.client_id}&request_uri={request_uri}"
    async with browser(ag) as person:
        left = await person.sign_in(url, owner.email, PASSWORD)
        assert left.params["state"] == "par"
        assert (await exchange(ag, app, left.params["code"], verifier)).status_code == 200
        reused = await person.browse(url)
        assert reused.status == 400
        assert "request_uri" in reused.text  # type: ignore[union-attr]


async def test_client_credentials_and_device_code_for_registered_apps(ag: Authgate) -> None:
    from authgate.provider.models import GrantType

    org, owner = await ag.org_with_owner()
    app = await register(ag, org)
    issued = await ag.client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=app.auth()
    )
    assert issued.status_code == 200, issued.text
    assert "refresh_token" not in issued.json()
    device_app = await register(
        ag, org, public=True, grants=(GrantType.DEVICE_CODE, GrantType.REFRESH_TOKEN)
    )
    started = await ag.client.post(
        "/oauth/device_authorization", data={"client_id": device_app.client_id, "scope": "openid"}
    )
    assert started.status_code == 200, started.text
    async with browser(ag) as person:
        await person.approve_device(
            started.json()["verification_uri_complete"], owner.email, PASSWORD
        )
    tokens = await ag.client.post(
        "/oauth/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": started.json()["device_code"],
            "client_id": device_app.client_id,
        },
    )
    assert tokens.status_code == 200, tokens.text
    me = await ag.me(tokens.json()["access_token"])
    assert me.status_code == 200
    no_grant = await ag.client.post(
        "/oauth/device_authorization", data={"client_id": app.client_id}
    )
    assert no_grant.status_code in (400, 401)


async def test_a_password_reset_ends_the_browser_sign_in(ag: Authgate) -> None:
    app, email = await _member(ag)
    async with browser(ag) as person:
        await person.sign_in(authorize_url(app, pkce()[1]), email, PASSWORD)
        await ag.client.post("/v1/auth/password/forgot", json={"email": email})
        token = ag.link_token(email, "reset-password")
        reset = await ag.client.post(
            "/v1/auth/password/reset", json={"token": token, "password": "a-new-long-passphrase"}
        )
        assert reset.status_code in (200, 204), reset.text
        after = await person.browse(authorize_url(app, pkce()[1], prompt="none"))
        assert after.params["error"] == "login_required"  # type: ignore[union-attr]


async def test_an_app_introspects_its_own_tokens_only(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    app = await register(ag, org)
    other = await register(ag, org)
    verifier, challenge = pkce()
    async with browser(ag) as person:
        left = await person.sign_in(authorize_url(app, challenge), owner.email, PASSWORD)
    tokens = (await exchange(ag, app, left.params["code"], verifier)).json()
    for token in (tokens["access_token"], tokens["refresh_token"]):
        own = await ag.client.post("/oauth/introspect", data={"token": token}, headers=app.auth())
        assert own.status_code == 200
        assert own.json()["active"] is True
        assert own.json()["client_id"] == app.client_id
        foreign = await ag.client.post(
            "/oauth/introspect", data={"token": token}, headers=other.auth()
        )
        assert foreign.json() == {"active": False}
    device = await ag.login(owner.email)
    theirs = await ag.client.post(
        "/oauth/introspect", data={"token": device["access_token"]}, headers=app.auth()
    )
    assert theirs.json() == {"active": False}
    public = await register(ag, org, public=True)
    refused = await ag.client.post(
        "/oauth/introspect", data={"token": tokens["access_token"], "client_id": public.client_id}
    )
    assert refused.status_code == 401


async def test_userinfo_refuses_what_is_not_a_users_openid_token(ag: Authgate) -> None:
    org, _ = await ag.org_with_owner()
    app = await register(ag, org)
    service = await ag.client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=app.auth()
    )
    cases = [
        ({}, 401, "unauthenticated"),
        ({"Authorization": "Basic eDp5"}, 401, "invalid_token"),
        ({"Authorization": "Bearer not.a.jwt"}, 401, "invalid_token"),
        (bearer(service.json()["access_token"]), 403, "insufficient_scope"),
    ]
    for headers, status, code in cases:
        for method in ("GET", "POST"):
            response = await ag.client.request(method, "/oauth/userinfo", headers=headers)
            assert response.status_code == status, response.text
            assert response.json()["error"]["code"] == code
            assert "www-authenticate" in response.headers
    huge = await ag.client.post("/oauth/userinfo", content=b"x" * 70_000, headers=bearer("a"))
    assert huge.status_code == 413
