"""SECURITY.md, "Our OAuth 2.0 / OpenID provider": redirect URI variants, error paths that
must not redirect, PKCE downgrades, code reuse and binding, client authentication."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from authgate.provider.models import GrantType
from tests.http.conftest import BASE_URL, PASSWORD, Authgate, basic, bearer
from tests.http.provider_support import (
    REDIRECT,
    App,
    authorize_url,
    browser,
    exchange,
    pkce,
    register,
)

BAD_REDIRECTS = [
    REDIRECT + "/",
    REDIRECT.upper(),
    "https://PLANNER.example.com/callback",
    REDIRECT + "?next=https://evil.example",
    REDIRECT + "#x",
    "https://planner.example.com/callback/../evil",
    "https://planner.example.com/callback/%2e%2e/evil",
    "https://planner.example.com/%63allback",
    "https://planner.example.com.evil.example/callback",
    "https://planner.example.com@evil.example/callback",
    "https://evil.example@planner.example.com/callback",
    "http://planner.example.com/callback",
    "javascript:alert(document.cookie)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "//evil.example/callback",
    "https://evil.example/callback",
]


async def _app(ag: Authgate, **options: object) -> tuple[App, str]:
    org, owner = await ag.org_with_owner()
    return await register(ag, org, **options), owner.email  # type: ignore[arg-type]


def _query(location: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(location).query))


@pytest.mark.parametrize("redirect_uri", BAD_REDIRECTS)
@pytest.mark.parametrize(
    "extra",
    [{}, {"scope": "admin"}, {"prompt": "none"}, {"response_type": "token"}],
    ids=["plain", "bad-scope", "prompt-none", "implicit"],
)
async def test_a_bad_redirect_uri_gets_a_page_never_a_redirect(
    ag: Authgate, redirect_uri: str, extra: dict[str, str]
) -> None:
    app, _ = await _app(ag)
    response = await ag.client.get(
        authorize_url(app, pkce()[1], redirect_uri=redirect_uri, **extra)
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "registered redirect URI" in response.text


@pytest.mark.parametrize(
    "params",
    [
        {"client_id": "app-unknown"},
        {"client_id": ""},
        {"client_id": "<drop>"},
        {"client_id": "svc_whatever"},
    ],
)
async def test_an_unknown_client_gets_a_page(ag: Authgate, params: dict[str, str]) -> None:
    app, _ = await _app(ag)
    response = await ag.client.get(authorize_url(app, pkce()[1], **params))
    assert response.status_code == 400
    assert "location" not in response.headers


async def test_several_registered_uris_and_none_given_gets_a_page(ag: Authgate) -> None:
    app, _ = await _app(ag, redirect_uris=(REDIRECT, "https://planner.example.com/other"))
    response = await ag.client.get(authorize_url(app, pkce()[1], redirect_uri="<drop>"))
    assert response.status_code == 400
    assert "location" not in response.headers


async def test_repeated_parameters_are_refused(ag: Authgate) -> None:
    app, _ = await _app(ag)
    url = authorize_url(app, pkce()[1])
    doubled = await ag.client.get(url + "&redirect_uri=https://evil.example/cb")
    assert doubled.status_code == 400
    assert "location" not in doubled.headers
    scoped = await ag.client.get(url + "&scope=openid")
    assert scoped.status_code == 302
    assert _query(scoped.headers["location"])["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "code id_token"}, "unsupported_response_type"),
        ({"scope": "openid admin"}, "invalid_scope"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"prompt": "none"}, "login_required"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
    ],
)
async def test_other_errors_go_back_to_the_app_with_state_and_iss(
    ag: Authgate, extra: dict[str, str], error: str
) -> None:
    app, _ = await _app(ag)
    response = await ag.client.get(authorize_url(app, pkce()[1], state="keep", **extra))
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    answer = _query(location)
    assert answer["error"] == error
    assert answer["state"] == "keep"
    assert answer["iss"] == BASE_URL
    assert "code" not in answer


async def _code(ag: Authgate, app: App, email: str, challenge: str | None, **extra: str) -> str:
    async with browser(ag) as person:
        left = await person.sign_in(authorize_url(app, challenge, **extra), email, PASSWORD)
    return left.params["code"]


async def test_a_reused_code_is_refused_and_revokes_what_it_issued(ag: Authgate) -> None:
    app, email = await _app(ag)
    verifier, challenge = pkce()
    code = await _code(ag, app, email, challenge)
    first = await exchange(ag, app, code, verifier)
    assert first.status_code == 200
    again = await exchange(ag, app, code, verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    tokens = first.json()
    refresh = await ag.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=app.auth(),
    )
    assert refresh.json()["error"] == "invalid_grant"
    info = await ag.client.get("/oauth/userinfo", headers=bearer(tokens["access_token"]))
    assert info.status_code == 401


async def test_codes_expire(ag: Authgate) -> None:
    app, email = await _app(ag)
    verifier, challenge = pkce()
    code = await _code(ag, app, email, challenge)
    ag.clock.advance(61)
    response = await exchange(ag, app, code, verifier)
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "override",
    [
        {"code_verifier": "<drop>"},
        {"code_verifier": "a" * 43},
        {"code_verifier": "short"},
        {"redirect_uri": "https://planner.example.com/other"},
        {"redirect_uri": "<drop>"},
    ],
)
async def test_a_code_is_bound_to_its_verifier_and_redirect_uri(
    ag: Authgate, override: dict[str, str]
) -> None:
    app, email = await _app(ag)
    verifier, challenge = pkce()
    code = await _code(ag, app, email, challenge)
    response = await exchange(ag, app, code, verifier, **override)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_a_verifier_for_a_code_without_a_challenge_is_a_downgrade(ag: Authgate) -> None:
    app, email = await _app(ag)
    code = await _code(ag, app, email, None)
    response = await exchange(ag, app, code, pkce()[0])
    assert response.json()["error"] == "invalid_grant"
    assert "PKCE" in response.json()["error_description"]


async def test_a_code_is_bound_to_its_client(ag: Authgate) -> None:
    app, email = await _app(ag)
    other = await register(ag, (await ag.services.deps.store.orgs.get(app.client.org_id)))  # type: ignore[arg-type]
    verifier, challenge = pkce()
    code = await _code(ag, app, email, challenge)
    stolen = await exchange(ag, other, code, verifier)
    assert stolen.json()["error"] == "invalid_grant"


async def test_public_clients_must_send_a_challenge(ag: Authgate) -> None:
    app, _ = await _app(ag, public=True)
    response = await ag.client.get(authorize_url(app, None))
    assert _query(response.headers["location"])["error"] == "invalid_request"


async def test_client_authentication_failures_look_alike(ag: Authgate) -> None:
    app, email = await _app(ag)
    public, _ = await _app(ag, public=True)
    verifier, challenge = pkce()
    code = await _code(ag, app, email, challenge)
    base = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier}  # fmt: skip
    attempts = [
        (base, basic(app.client_id, "wrong-secret")),
        (base, basic("app-unknown", "wrong-secret")),
        ({**base, "client_id": app.client_id}, {}),
        ({**base, "client_id": public.client_id, "client_secret": "x"}, {}),
    ]
    bodies = []
    for form, headers in attempts:
        response = await ag.client.post("/oauth/token", data=form, headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_client"
        bodies.append(response.json())
    assert bodies[0] == bodies[1]
    # None of the failures spent the code.
    assert (await exchange(ag, app, code, verifier)).status_code == 200


async def test_refresh_tokens_are_bound_to_their_client(ag: Authgate) -> None:
    app, email = await _app(ag)
    org = await ag.services.deps.store.orgs.get(app.client.org_id)
    assert org is not None
    other = await register(ag, org)
    verifier, challenge = pkce()
    tokens = (await exchange(ag, app, await _code(ag, app, email, challenge), verifier)).json()
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    for headers in (other.auth(), {}):
        response = await ag.client.post("/oauth/token", data=form, headers=headers)
        assert response.json()["error"] == "invalid_grant"
    device = await ag.login(email)
    as_app = await ag.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": device["refresh_token"]},
        headers=app.auth(),
    )
    assert as_app.json()["error"] == "invalid_grant"
    # The rightful client still can: nothing above spent its token.
    own = await ag.client.post("/oauth/token", data=form, headers=app.auth())
    assert own.status_code == 200


async def test_unsupported_grants_and_grants_the_client_lacks(ag: Authgate) -> None:
    app, _ = await _app(ag, grants=(GrantType.AUTHORIZATION_CODE,))
    for form in (
        {"grant_type": "password", "username": "a", "password": "b"},
        {"grant_type": "implicit"},
    ):
        response = await ag.client.post("/oauth/token", data=form, headers=app.auth())
        assert response.json()["error"] == "unsupported_grant_type"
    lacking = await ag.client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=app.auth()
    )
    assert lacking.json()["error"] == "unauthorized_client"


@pytest.mark.parametrize(
    "query",
    [
        "post_logout_redirect_uri=https://evil.example/",
        "post_logout_redirect_uri=https://planner.example.com/signed-out/&client_id={client}",
        "post_logout_redirect_uri=https://evil.example/&client_id={client}",
        "id_token_hint=not-a-token&post_logout_redirect_uri=https://planner.example.com/signed-out",
    ],
)
async def test_logout_never_redirects_to_an_unregistered_address(ag: Authgate, query: str) -> None:
    app, _ = await _app(ag)
    response = await ag.client.get("/oauth/logout?" + query.format(client=app.client_id))
    assert response.status_code == 400
    assert "location" not in response.headers


async def test_a_consent_form_does_not_work_in_another_browser(ag: Authgate) -> None:
    app, email = await _app(ag)
    async with browser(ag) as person, browser(ag, "198.51.100.7") as attacker:
        page = await person.browse(authorize_url(app, pkce()[1]), email=email, password=PASSWORD)
        form = page.forms[0]  # type: ignore[union-attr]
        assert form.action == "/oauth/consent"
        await attacker.sign_in(authorize_url(app, pkce()[1]), email, PASSWORD, decision="deny")
        replayed = await attacker.submit(page, form, decision="allow")  # type: ignore[arg-type]
    assert replayed.status == 400  # type: ignore[union-attr]


async def test_a_cross_site_sign_in_post_cannot_sign_a_browser_in(ag: Authgate) -> None:
    """Login CSRF: the attacker's own sign-in form, posted from the victim's browser (which
    lacks the cookie set beside the form), is refused."""
    app, email = await _app(ag)
    async with browser(ag, "198.51.100.7") as attacker:
        page = await attacker.browse(authorize_url(app, pkce()[1]))
        sealed = dict(page.forms[0].fields())["request"]  # type: ignore[union-attr]
    async with browser(ag) as victim:
        forged = await victim.client.post(
            f"{BASE_URL}/oauth/signin",
            data={"request": sealed, "email": email, "password": PASSWORD},
        )
        assert forged.status_code == 400
        assert "set-cookie" not in {k.lower() for k in forged.headers}
        later = await victim.browse(authorize_url(app, pkce()[1], prompt="none"))
        assert later.params["error"] == "login_required"  # type: ignore[union-attr]
