"""A certified relying party (npm openid-client v6) signs people in with a real `authgate
serve` as its OpenID provider: discovery, the authorization code flow with PKCE through the
sign-in and consent pages, ID tokens it validates (signature from the JWKS, iss, aud, nonce,
at_hash), refresh with rotation, userinfo, RP-initiated logout, pushed authorization
requests, the device grant for a public client and client credentials for a confidential one.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.e2e.provider_apps import (
    CALLBACK,
    OWNER,
    SIGNED_OUT,
    Deployment,
    Registered,
    provider_deployment,
)
from tests.e2e.provider_browser import Left, Page, ProviderBrowser
from tests.peers.openid_rp import AuthorizationRequest, OpenIdRp, RpError, start_rp

pytestmark = pytest.mark.e2e
SCOPE = "openid profile email offline_access"
NATIVE_CALLBACK = "http://127.0.0.1/callback"
"""A native app's loopback redirect URI: the port may vary at each authorization."""
ACR_PASSWORD = "urn:authgate:acr:password"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
POSTED_ENDPOINTS = (
    "token_endpoint",
    "revocation_endpoint",
    "introspection_endpoint",
    "device_authorization_endpoint",
    "pushed_authorization_request_endpoint",
)


@dataclass(frozen=True)
class Apps:
    """The apps registered for this module, by the relying party's name for them."""

    web: Registered
    eddsa: Registered
    native: Registered
    service: Registered


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with provider_deployment(tmp_path_factory.mktemp("provider")) as running:
        yield running


@pytest.fixture(scope="module")
def apps(deployment: Deployment) -> Apps:
    return Apps(
        web=deployment.register("Planner"),
        eddsa=deployment.register(
            "Planner (EdDSA)", id_token_signed_response_alg="EdDSA", via="cli"
        ),
        native=deployment.register(
            "Planner for the desktop",
            client_type="public",
            grants=("authorization_code", "refresh_token", DEVICE_GRANT),
            scopes=("openid", "email", "offline_access"),
            redirect_uris=(NATIVE_CALLBACK,),
            post_logout_redirect_uris=(),
            application_type="native",
            via="cli",
        ),
        service=deployment.register(
            "Planner's nightly sync",
            grants=("client_credentials",),
            scopes=None,
            redirect_uris=(),
            post_logout_redirect_uris=(),
        ),
    )


@pytest.fixture(scope="module")
async def rp(deployment: Deployment, apps: Apps) -> AsyncIterator[OpenIdRp]:
    async with start_rp() as running:
        issuer = deployment.issuer
        await running.discover("web", issuer, apps.web.client_id, apps.web.client_secret)
        await running.discover(
            "eddsa",
            issuer,
            apps.eddsa.client_id,
            apps.eddsa.client_secret,
            auth="client_secret_post",
            id_token_signed_response_alg="EdDSA",
        )
        await running.discover("native", issuer, apps.native.client_id)
        await running.discover(
            "service", issuer, apps.service.client_id, apps.service.client_secret
        )
        yield running


def header_of(token: str) -> dict[str, Any]:
    """A compact JWS's protected header."""
    segment = token.split(".")[0]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


async def signed_in(
    rp: OpenIdRp,
    deployment: Deployment,
    name: str = "web",
    *,
    browser: ProviderBrowser | None = None,
    redirect_uri: str = CALLBACK,
    scope: str = SCOPE,
    **params: str,
) -> tuple[AuthorizationRequest, Left, dict[str, Any]]:
    """The whole code flow: the RP's request, the person at the pages, the RP's grant."""
    request = await rp.authorization_url(name, redirect_uri, scope, **params)
    if browser is None:
        async with ProviderBrowser(deployment.issuer) as fresh:
            left = await fresh.sign_in(request.url, OWNER, deployment.password)
    else:
        left = await browser.sign_in(request.url, OWNER, deployment.password)
    return request, left, await rp.code_grant(name, request, left.url)


async def test_discovery_lists_every_endpoint_and_each_answers(
    deployment: Deployment, apps: Apps, rp: OpenIdRp
) -> None:
    issuer = deployment.issuer
    meta = await rp.discover("probe", issuer, apps.web.client_id, apps.web.client_secret)
    assert meta["issuer"] == issuer
    expected = {
        "authorization_endpoint": "/oauth/authorize",
        "token_endpoint": "/oauth/token",
        "userinfo_endpoint": "/oauth/userinfo",
        "end_session_endpoint": "/oauth/logout",
        "revocation_endpoint": "/oauth/revoke",
        "introspection_endpoint": "/oauth/introspect",
        "device_authorization_endpoint": "/oauth/device_authorization",
        "pushed_authorization_request_endpoint": "/oauth/par",
        "jwks_uri": "/.well-known/jwks.json",
    }
    for name, path in expected.items():
        assert meta[name] == issuer + path, name
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert {"RS256", "EdDSA"} <= set(meta["id_token_signing_alg_values_supported"])
    assert {"authorization_code", "refresh_token", "client_credentials", DEVICE_GRANT} <= set(
        meta["grant_types_supported"]
    )
    assert "implicit" not in meta["grant_types_supported"]
    assert "password" not in meta["grant_types_supported"]
    assert {"openid", "profile", "email", "offline_access"} <= set(meta["scopes_supported"])
    assert {"sub", "email", "auth_time", "nonce", "at_hash"} <= set(meta["claims_supported"])
    # "True" metadata: every endpoint it lists exists (an empty request gets a 4xx, or a page).
    async with httpx.AsyncClient() as client:
        for name in POSTED_ENDPOINTS:
            answer = await client.post(meta[name], data={})
            assert answer.status_code in (400, 401), (name, answer.status_code, answer.text)
            assert "error" in answer.json(), name
        userinfo = await client.get(meta["userinfo_endpoint"])
        assert userinfo.status_code == 401
        jwks = (await client.get(meta["jwks_uri"])).json()
        assert {key["alg"] for key in jwks["keys"]} >= {"RS256", "EdDSA"}
        page = await client.get(meta["authorization_endpoint"])
        assert page.status_code == 400
        assert "text/html" in page.headers["content-type"]


@pytest.mark.parametrize("alg", ["RS256", "EdDSA"])
async def test_code_flow_with_pkce_then_userinfo_and_refresh_rotation(
    deployment: Deployment, rp: OpenIdRp, alg: str
) -> None:
    # An app of its own, so that this person has not consented to it yet.
    name = f"planner-{alg}"
    app = deployment.register(f"Planner ({alg})", id_token_signed_response_alg=alg)
    client_id = app.client_id
    await rp.discover(
        name, deployment.issuer, client_id, app.client_secret, id_token_signed_response_alg=alg
    )
    request = await rp.authorization_url(name, CALLBACK, SCOPE)
    sent = dict(parse_qsl(urlsplit(request.url).query))
    assert sent["code_challenge_method"] == "S256"
    assert sent["nonce"] == request.nonce
    async with ProviderBrowser(deployment.issuer) as browser:
        left = await browser.sign_in(request.url, OWNER, deployment.password)
        shown = [page.forms[0].action for page in browser.pages]
    # Email first, then the password, then the consent page; then back to the app.
    assert shown == ["/oauth/signin", "/oauth/signin", "/oauth/consent"], shown
    assert "Planner" in browser.pages[-1].text
    assert left.address == CALLBACK
    assert left.params["state"] == request.state
    assert left.params["iss"] == deployment.issuer
    assert set(left.params) == {"code", "state", "iss"}

    granted = await rp.code_grant(name, request, left.url)
    tokens, claims = granted["tokens"], granted["claims"]
    assert granted["at_hash_checked"] is True
    assert header_of(tokens["id_token"])["alg"] == alg
    assert claims["iss"] == deployment.issuer
    assert claims["aud"] == client_id
    assert claims["sub"] == deployment.owner_id
    assert claims["nonce"] == request.nonce
    assert claims["email"] == OWNER
    assert claims["acr"] == ACR_PASSWORD
    assert claims["amr"] == ["pwd"]
    assert isinstance(claims["auth_time"], int)
    assert tokens["token_type"].lower() == "bearer"
    assert set(tokens["scope"].split()) == set(SCOPE.split())

    info = await rp.userinfo(name, tokens["access_token"], deployment.owner_id)
    assert info["sub"] == deployment.owner_id
    assert info["email"] == OWNER

    refreshed = await rp.refresh(name, tokens["refresh_token"])
    assert refreshed["tokens"]["refresh_token"] != tokens["refresh_token"]
    assert refreshed["tokens"]["access_token"] != tokens["access_token"]
    again = await rp.userinfo(name, refreshed["tokens"]["access_token"], deployment.owner_id)
    assert again["email"] == OWNER
    # Rotation: the old refresh token is refused, and presenting it revoked the family.
    with pytest.raises(RpError) as old:
        await rp.refresh(name, tokens["refresh_token"])
    assert old.value.error == "invalid_grant"
    with pytest.raises(RpError) as family:
        await rp.refresh(name, refreshed["tokens"]["refresh_token"])
    assert family.value.error == "invalid_grant"


async def test_the_browser_session_and_the_consent_are_remembered(
    deployment: Deployment, rp: OpenIdRp
) -> None:
    async with ProviderBrowser(deployment.issuer) as browser:
        await signed_in(rp, deployment, browser=browser)
        pages = len(browser.pages)
        # Signed in and consented already: straight back to the app.
        _, left, granted = await signed_in(rp, deployment, browser=browser)
        assert len(browser.pages) == pages
        assert left.params["iss"] == deployment.issuer
        first_auth_time = granted["claims"]["auth_time"]

        # prompt=login and max_age=0 ask for the password again (not the email: it is known).
        for params in ({"prompt": "login"}, {"max_age": "0"}):
            request = await rp.authorization_url("web", CALLBACK, SCOPE, **params)
            left = await browser.sign_in(request.url, OWNER, deployment.password)
            assert browser.pages[-1].forms[0].has("password"), params
            max_age = 0 if "max_age" in params else None
            granted = await rp.code_grant("web", request, left.url, max_age=max_age)
            assert granted["claims"]["auth_time"] >= first_auth_time

        # prompt=consent shows the consent page although consent was given.
        request = await rp.authorization_url("web", CALLBACK, SCOPE, prompt="consent")
        await browser.sign_in(request.url, OWNER, deployment.password)
        assert browser.pages[-1].forms[0].action == "/oauth/consent"

    # prompt=none without a session: login_required, back at the app, which refuses it.
    async with ProviderBrowser(deployment.issuer) as stranger:
        request = await rp.authorization_url("web", CALLBACK, SCOPE, prompt="none")
        outcome = await stranger.browse(request.url)
    assert isinstance(outcome, Left), outcome
    assert outcome.params["error"] == "login_required"
    assert outcome.params["state"] == request.state
    assert outcome.params["iss"] == deployment.issuer
    with pytest.raises(RpError) as refused:
        await rp.code_grant("web", request, outcome.url)
    assert refused.value.error == "login_required"


async def test_denied_consent_reaches_the_app_as_access_denied(
    deployment: Deployment, rp: OpenIdRp
) -> None:
    request = await rp.authorization_url("web", CALLBACK, SCOPE, prompt="consent")
    async with ProviderBrowser(deployment.issuer) as browser:
        left = await browser.sign_in(request.url, OWNER, deployment.password, decision="deny")
    assert left.address == CALLBACK
    assert left.params["error"] == "access_denied"
    assert left.params["state"] == request.state
    assert left.params["iss"] == deployment.issuer
    assert "code" not in left.params
    with pytest.raises(RpError) as refused:
        await rp.code_grant("web", request, left.url)
    assert refused.value.error == "access_denied"


async def test_a_code_is_single_use_and_its_reuse_revokes_what_it_gave(
    deployment: Deployment, rp: OpenIdRp
) -> None:
    request, left, granted = await signed_in(rp, deployment)
    with pytest.raises(RpError) as reused:
        await rp.code_grant("web", request, left.url)
    assert reused.value.error == "invalid_grant"
    with pytest.raises(RpError) as revoked:
        await rp.refresh("web", granted["tokens"]["refresh_token"])
    assert revoked.value.error == "invalid_grant"


async def test_a_code_is_bound_to_its_client_and_verifier(
    deployment: Deployment, rp: OpenIdRp
) -> None:
    request = await rp.authorization_url("web", CALLBACK, SCOPE)
    async with ProviderBrowser(deployment.issuer) as browser:
        left = await browser.sign_in(request.url, OWNER, deployment.password)
    # Another client (the EdDSA app, also at CALLBACK) presents the code with the verifier.
    with pytest.raises(RpError) as other_client:
        await rp.code_grant("eddsa", request, left.url)
    assert other_client.value.error == "invalid_grant"
    wrong = AuthorizationRequest(request.url, request.state, request.nonce, "x" * 43)
    with pytest.raises(RpError) as wrong_verifier:
        await rp.code_grant("web", wrong, left.url)
    assert wrong_verifier.value.error == "invalid_grant"


async def test_an_app_registered_with_the_cli_signs_people_in(
    deployment: Deployment, apps: Apps, rp: OpenIdRp
) -> None:
    assert apps.eddsa.client_secret is not None
    assert "shown only this once" in apps.eddsa.answer["printed"]
    request, _, granted = await signed_in(rp, deployment, "eddsa")
    assert header_of(granted["tokens"]["id_token"])["alg"] == "EdDSA"
    assert granted["at_hash_checked"] is True
    assert granted["claims"]["aud"] == apps.eddsa.client_id
    assert granted["claims"]["nonce"] == request.nonce


async def test_revocation_ends_the_refresh_token(deployment: Deployment, rp: OpenIdRp) -> None:
    _, _, granted = await signed_in(rp, deployment)
    await rp.revoke("web", granted["tokens"]["refresh_token"], "refresh_token")
    with pytest.raises(RpError) as refused:
        await rp.refresh("web", granted["tokens"]["refresh_token"])
    assert refused.value.error == "invalid_grant"


async def test_an_app_introspects_its_tokens(
    deployment: Deployment, apps: Apps, rp: OpenIdRp
) -> None:
    _, _, granted = await signed_in(rp, deployment)
    tokens = granted["tokens"]
    for token in (tokens["access_token"], tokens["refresh_token"]):
        about = await rp.introspect("web", token)
        assert about["active"] is True
        assert about["client_id"] == apps.web.client_id
        assert about["sub"] == deployment.owner_id
    service = await rp.client_credentials("service")
    own = await rp.introspect("service", service["access_token"])
    assert own["active"] is True
    assert own["client_id"] == apps.service.client_id
    await rp.revoke("web", tokens["refresh_token"])
    assert (await rp.introspect("web", tokens["refresh_token"]))["active"] is False


async def test_rp_initiated_logout_ends_the_session_and_its_refresh_tokens(
    deployment: Deployment, rp: OpenIdRp
) -> None:
    async with ProviderBrowser(deployment.issuer) as browser:
        _, _, granted = await signed_in(rp, deployment, browser=browser)
        tokens = granted["tokens"]
        url = await rp.end_session_url(
            "web",
            id_token_hint=tokens["id_token"],
            post_logout_redirect_uri=SIGNED_OUT,
            state="bye-1",
        )
        left = await browser.browse(url)
        assert isinstance(left, Left), left
        assert left.address == SIGNED_OUT
        assert left.params["state"] == "bye-1"
        with pytest.raises(RpError) as refused:
            await rp.refresh("web", tokens["refresh_token"])
        assert refused.value.error == "invalid_grant"
        with pytest.raises(RpError) as userinfo:
            await rp.userinfo("web", tokens["access_token"], deployment.owner_id)
        assert userinfo.value.status == 401
        # Signed out of authgate too: the next authorization starts at the email again.
        request = await rp.authorization_url("web", CALLBACK, SCOPE)
        page = await browser.browse(request.url)
        assert isinstance(page, Page), page
        assert page.forms[0].action == "/oauth/signin"
        assert not page.forms[0].has("password")


async def test_logout_without_a_hint_asks_first(deployment: Deployment, rp: OpenIdRp) -> None:
    async with ProviderBrowser(deployment.issuer) as browser:
        _, _, granted = await signed_in(rp, deployment, browser=browser)
        url = await rp.end_session_url("web", post_logout_redirect_uri=SIGNED_OUT, state="bye-2")
        asked = await browser.browse(url)
        assert isinstance(asked, Page), asked
        assert asked.forms[0].action == "/oauth/logout"
        assert ("decision", "logout") in asked.forms[0].buttons
        # Merely showing the question ended nothing.
        still = await rp.refresh("web", granted["tokens"]["refresh_token"])
        left = await browser.browse(url, logout=True)
        assert isinstance(left, Left), left
        assert left.address == SIGNED_OUT
        assert left.params["state"] == "bye-2"
        with pytest.raises(RpError) as refused:
            await rp.refresh("web", still["tokens"]["refresh_token"])
        assert refused.value.error == "invalid_grant"


async def test_pushed_authorization_request(deployment: Deployment, rp: OpenIdRp) -> None:
    request = await rp.pushed_authorization_url("web", CALLBACK, SCOPE)
    sent = dict(parse_qsl(urlsplit(request.url).query))
    assert set(sent) == {"client_id", "request_uri"}
    assert sent["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    async with ProviderBrowser(deployment.issuer) as browser:
        left = await browser.sign_in(request.url, OWNER, deployment.password)
        granted = await rp.code_grant("web", request, left.url)
        assert granted["claims"]["nonce"] == request.nonce
        # A request_uri is used once: opening it again is an error page, not a redirect.
        again = await browser.browse(request.url)
    assert isinstance(again, Page), again
    assert again.status == 400


async def test_a_native_app_on_any_loopback_port(
    deployment: Deployment, apps: Apps, rp: OpenIdRp
) -> None:
    assert apps.native.client_secret is None
    for port in (49152, 61234):
        redirect_uri = f"http://127.0.0.1:{port}/callback"
        _, left, granted = await signed_in(
            rp, deployment, "native", redirect_uri=redirect_uri, scope="openid email"
        )
        assert left.address == redirect_uri
        assert granted["claims"]["aud"] == apps.native.client_id
    # Not a port of another host, nor another path.
    request = await rp.authorization_url("native", "http://127.0.0.1:8080/other", "openid")
    async with ProviderBrowser(deployment.issuer) as browser:
        refused = await browser.browse(request.url)
    assert isinstance(refused, Page), refused
    assert refused.status == 400


async def test_device_code_for_a_public_client(
    deployment: Deployment, apps: Apps, rp: OpenIdRp
) -> None:
    started = await rp.device_start("native", "openid email offline_access")
    assert started["verification_uri"] == f"{deployment.issuer}/device"
    polling = asyncio.create_task(rp.device_poll("native", started))
    async with ProviderBrowser(deployment.issuer) as browser:
        page = await browser.approve_device(
            started["verification_uri_complete"], OWNER, deployment.password
        )
    assert page.status == 200, page
    granted = await polling
    tokens = granted["tokens"]
    if granted["claims"] is not None:
        assert granted["claims"]["sub"] == deployment.owner_id
        assert granted["claims"]["aud"] == apps.native.client_id
    info = await rp.userinfo("native", tokens["access_token"], deployment.owner_id)
    assert info["email"] == OWNER
    refreshed = await rp.refresh("native", tokens["refresh_token"])
    assert refreshed["tokens"]["refresh_token"] != tokens["refresh_token"]


async def test_client_credentials_for_a_confidential_client(
    deployment: Deployment, apps: Apps, rp: OpenIdRp
) -> None:
    tokens = await rp.client_credentials("service")
    assert tokens["token_type"].lower() == "bearer"
    assert "refresh_token" not in tokens
    assert "id_token" not in tokens

    await rp.discover("impostor", deployment.issuer, apps.service.client_id, "not-the-secret")
    with pytest.raises(RpError) as impostor:
        await rp.client_credentials("impostor")
    assert impostor.value.error == "invalid_client"
    assert impostor.value.status == 401
    with pytest.raises(RpError) as not_allowed:
        await rp.client_credentials("web")
    assert not_allowed.value.error == "unauthorized_client"


async def test_no_secret_or_token_reaches_the_log_or_the_database(
    deployment: Deployment, apps: Apps, rp: OpenIdRp
) -> None:
    _, left, granted = await signed_in(rp, deployment)
    refreshed = await rp.refresh("web", granted["tokens"]["refresh_token"])
    service = await rp.client_credentials("service")
    secrets = [
        deployment.password,
        left.params["code"],
        granted["tokens"]["access_token"],
        granted["tokens"]["refresh_token"],
        granted["tokens"]["id_token"],
        refreshed["tokens"]["refresh_token"],
        service["access_token"],
    ]
    for registered in (apps.web, apps.eddsa, apps.service):
        assert registered.client_secret
        secrets.append(registered.client_secret)
    log = deployment.server.log()
    stored = b"".join(
        path.read_bytes() for path in deployment.data_dir.rglob("*") if path.is_file()
    )
    for secret in secrets:
        assert secret not in log
        assert secret.encode() not in stored
