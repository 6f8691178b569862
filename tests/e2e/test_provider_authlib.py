"""Authlib's OAuth 2.0 client (``OAuth2Session``) signs people in with a real `authgate
serve`: the discovery document validated by Authlib's metadata models, the code flow with PKCE
S256 through the sign-in and consent pages, the ID token validated from the JWKS (joserfc,
Authlib's JOSE library) and Authlib's ``CodeIDToken`` (iss, aud, nonce, at_hash, exp, iat),
refresh with rotation, userinfo, RP-initiated logout, a pushed request, the device grant and
client credentials."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2 import rfc9207
from authlib.oidc import discovery, rpinitiated
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import KeySet

from tests.e2e.provider_apps import (
    CALLBACK,
    OWNER,
    SIGNED_OUT,
    Deployment,
    Registered,
    provider_deployment,
)
from tests.e2e.provider_browser import Left, ProviderBrowser

pytestmark = pytest.mark.e2e
SCOPE = "openid profile email offline_access"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with provider_deployment(tmp_path_factory.mktemp("provider")) as running:
        yield running


@pytest.fixture(scope="module")
def metadata(deployment: Deployment) -> dict[str, Any]:
    answer = httpx.get(f"{deployment.issuer}/.well-known/openid-configuration", timeout=30)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def session(app: Registered, **settings: Any) -> OAuth2Session:
    """Authlib's client for ``app``: PKCE S256, the app's callback, Basic authentication."""
    settings.setdefault("scope", SCOPE)
    settings.setdefault("redirect_uri", CALLBACK)
    settings.setdefault(
        "token_endpoint_auth_method", "client_secret_basic" if app.client_secret else "none"
    )
    return OAuth2Session(app.client_id, app.client_secret, code_challenge_method="S256", **settings)


def validated_id_token(
    id_token: str,
    metadata: dict[str, Any],
    client_id: str,
    *,
    nonce: str | None,
    access_token: str,
    alg: str,
) -> CodeIDToken:
    """The ID token's claims after its signature (from the JWKS) and claims were checked."""
    keys = KeySet.import_key_set(httpx.get(metadata["jwks_uri"], timeout=30).json())
    with warnings.catch_warnings():
        # joserfc notes that RFC 9864 deprecates the name "EdDSA"; the app chose it.
        warnings.simplefilter("ignore", SecurityWarning)
        token = jwt.decode(id_token, keys, algorithms=[alg])
    claims = CodeIDToken(
        token.claims,
        token.header,
        options={
            "iss": {"essential": True, "value": metadata["issuer"]},
            "aud": {"essential": True, "value": client_id},
            "sub": {"essential": True},
        },
        params={"nonce": nonce, "access_token": access_token, "client_id": client_id},
    )
    claims.validate()
    return claims


async def code_flow(
    deployment: Deployment,
    metadata: dict[str, Any],
    client: OAuth2Session,
    *,
    browser: ProviderBrowser | None = None,
    **params: str,
) -> tuple[Left, dict[str, Any], str]:
    """The whole flow: Authlib's URL, the person at the pages, Authlib's token request.
    The redirect, the token response and the nonce sent."""
    verifier = generate_token(48)
    nonce = generate_token(20)
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **params
    )
    if browser is None:
        async with ProviderBrowser(deployment.issuer) as fresh:
            left = await fresh.sign_in(url, OWNER, deployment.password)
    else:
        left = await browser.sign_in(url, OWNER, deployment.password)
    assert left.params["state"] == state
    # RFC 9207: Authlib's client does not check iss, so the app does.
    assert left.params["iss"] == metadata["issuer"]
    token = client.fetch_token(
        metadata["token_endpoint"], authorization_response=left.url, code_verifier=verifier
    )
    return left, dict(token), nonce


def test_the_discovery_document_passes_authlibs_validation(metadata: dict[str, Any]) -> None:
    checked = discovery.OpenIDProviderMetadata(metadata)
    checked.validate(
        metadata_classes=[rpinitiated.OpenIDProviderMetadata, rfc9207.AuthorizationServerMetadata]
    )
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["code_challenge_methods_supported"] == ["S256"]


@pytest.mark.parametrize("alg", ["RS256", "EdDSA"])
async def test_code_flow_with_pkce_a_validated_id_token_userinfo_and_refresh(
    deployment: Deployment, metadata: dict[str, Any], alg: str
) -> None:
    app = deployment.register(f"Authlib app ({alg})", id_token_signed_response_alg=alg)
    client = session(app)
    left, token, nonce = await code_flow(deployment, metadata, client)
    assert left.address == CALLBACK
    claims = validated_id_token(
        token["id_token"],
        metadata,
        app.client_id,
        nonce=nonce,
        access_token=token["access_token"],
        alg=alg,
    )
    assert claims.header["alg"] == alg
    assert claims["sub"] == deployment.owner_id
    assert claims["email"] == OWNER
    assert "at_hash" in claims
    assert isinstance(claims["auth_time"], int)

    info = client.get(metadata["userinfo_endpoint"])
    assert info.status_code == 200, info.text
    assert info.json()["sub"] == deployment.owner_id
    assert info.json()["email"] == OWNER

    old_refresh = token["refresh_token"]
    refreshed = dict(client.refresh_token(metadata["token_endpoint"], refresh_token=old_refresh))
    assert refreshed["refresh_token"] != old_refresh
    if "id_token" in refreshed:
        again = validated_id_token(
            refreshed["id_token"],
            metadata,
            app.client_id,
            nonce=None,
            access_token=refreshed["access_token"],
            alg=alg,
        )
        assert again["sub"] == deployment.owner_id
    with pytest.raises(OAuthError) as reused:
        client.refresh_token(metadata["token_endpoint"], refresh_token=old_refresh)
    assert reused.value.error == "invalid_grant"
    # Presenting a used refresh token revoked its whole family.
    with pytest.raises(OAuthError) as family:
        client.refresh_token(metadata["token_endpoint"], refresh_token=refreshed["refresh_token"])
    assert family.value.error == "invalid_grant"


async def test_client_secret_post_and_a_wrong_secret(
    deployment: Deployment, metadata: dict[str, Any]
) -> None:
    app = deployment.register("Authlib app (post)")
    posting = session(app, token_endpoint_auth_method="client_secret_post")
    _, token, _ = await code_flow(deployment, metadata, posting)
    assert token["access_token"]

    impostor = OAuth2Session(app.client_id, "not-the-secret", code_challenge_method="S256",
                             scope=SCOPE, redirect_uri=CALLBACK)  # fmt: skip
    with pytest.raises(OAuthError) as refused:
        await code_flow(deployment, metadata, impostor)
    assert refused.value.error == "invalid_client"


async def test_logout_ends_the_session_and_its_refresh_tokens(
    deployment: Deployment, metadata: dict[str, Any]
) -> None:
    app = deployment.register("Authlib app (logout)")
    client = session(app)
    async with ProviderBrowser(deployment.issuer) as browser:
        _, token, _ = await code_flow(deployment, metadata, client, browser=browser)
        query = urlencode(
            {
                "id_token_hint": token["id_token"],
                "post_logout_redirect_uri": SIGNED_OUT,
                "state": "authlib-bye",
            }
        )
        left = await browser.browse(f"{metadata['end_session_endpoint']}?{query}")
    assert isinstance(left, Left), left
    assert left.address == SIGNED_OUT
    assert left.params == {"state": "authlib-bye"}
    with pytest.raises(OAuthError) as refused:
        client.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert refused.value.error == "invalid_grant"
    assert client.get(metadata["userinfo_endpoint"]).status_code == 401


async def test_pushed_authorization_request(
    deployment: Deployment, metadata: dict[str, Any]
) -> None:
    app = deployment.register("Authlib app (PAR)")
    client = session(app)
    verifier = generate_token(48)
    nonce = generate_token(20)
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    pushed = client.post(
        metadata["pushed_authorization_request_endpoint"],
        data=dict(httpx.URL(url).params),
        auth=client.client_auth("client_secret_basic"),
        withhold_token=True,
    )
    assert pushed.status_code == 201, pushed.text
    assert pushed.headers["cache-control"] == "no-store"
    request_uri = pushed.json()["request_uri"]
    assert pushed.json()["expires_in"] > 0
    query = urlencode({"client_id": app.client_id, "request_uri": request_uri})
    async with ProviderBrowser(deployment.issuer) as browser:
        left = await browser.sign_in(
            f"{metadata['authorization_endpoint']}?{query}", OWNER, deployment.password
        )
    assert left.params["state"] == state
    token = client.fetch_token(
        metadata["token_endpoint"], authorization_response=left.url, code_verifier=verifier
    )
    claims = validated_id_token(
        token["id_token"], metadata, app.client_id, nonce=nonce,
        access_token=token["access_token"], alg="RS256",
    )  # fmt: skip
    assert claims["sub"] == deployment.owner_id


async def test_device_code_for_a_public_client(
    deployment: Deployment, metadata: dict[str, Any]
) -> None:
    app = deployment.register(
        "Authlib TV app",
        client_type="public",
        grants=(DEVICE_GRANT, "refresh_token"),
        scopes=("openid", "email", "offline_access"),
        redirect_uris=(),
        post_logout_redirect_uris=(),
        application_type="native",
    )
    client = session(app, scope="openid email offline_access")
    started = client.post(
        metadata["device_authorization_endpoint"],
        data={"client_id": app.client_id, "scope": "openid email offline_access"},
        withhold_token=True,
    )
    assert started.status_code == 200, started.text
    device = started.json()
    async with ProviderBrowser(deployment.issuer) as browser:
        page = await browser.approve_device(
            device["verification_uri_complete"], OWNER, deployment.password
        )
    assert page.status == 200, page
    # Polled once the person decided (the first poll: no interval to keep yet).
    token = client.fetch_token(
        metadata["token_endpoint"], grant_type=DEVICE_GRANT, device_code=device["device_code"]
    )
    assert set(token["scope"].split()) == {"openid", "email", "offline_access"}
    if "id_token" in token:
        claims = validated_id_token(
            token["id_token"], metadata, app.client_id, nonce=None,
            access_token=token["access_token"], alg="RS256",
        )  # fmt: skip
        assert claims["sub"] == deployment.owner_id
    info = client.get(metadata["userinfo_endpoint"])
    assert info.status_code == 200, info.text
    assert info.json()["email"] == OWNER
    refreshed = client.refresh_token(
        metadata["token_endpoint"], refresh_token=token["refresh_token"]
    )
    assert refreshed["refresh_token"] != token["refresh_token"]
    with pytest.raises(OAuthError) as spent:
        client.fetch_token(
            metadata["token_endpoint"], grant_type=DEVICE_GRANT, device_code=device["device_code"]
        )
    assert spent.value.error == "invalid_grant"


async def test_client_credentials(deployment: Deployment, metadata: dict[str, Any]) -> None:
    app = deployment.register(
        "Authlib nightly job",
        grants=("client_credentials",),
        scopes=None,
        redirect_uris=(),
        post_logout_redirect_uris=(),
    )
    client = OAuth2Session(app.client_id, app.client_secret)
    token = client.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
    assert token["token_type"].lower() == "bearer"
    assert "refresh_token" not in token
    assert "id_token" not in token
    impostor = OAuth2Session(app.client_id, "not-the-secret")
    with pytest.raises(OAuthError) as refused:
        impostor.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
    assert refused.value.error == "invalid_client"


async def test_an_app_introspects_and_revokes_its_tokens(
    deployment: Deployment, metadata: dict[str, Any]
) -> None:
    app = deployment.register("Authlib app (introspection)")
    client = session(app)
    _, token, _ = await code_flow(deployment, metadata, client)
    endpoint = metadata["introspection_endpoint"]
    for value, hint in ((token["access_token"], "access_token"),
                        (token["refresh_token"], "refresh_token")):  # fmt: skip
        about = client.introspect_token(endpoint, token=value, token_type_hint=hint)
        assert about.status_code == 200, about.text
        assert about.json()["active"] is True
        assert about.json()["client_id"] == app.client_id
        assert about.json()["sub"] == deployment.owner_id
    revoked = client.revoke_token(
        metadata["revocation_endpoint"],
        token=token["refresh_token"],
        token_type_hint="refresh_token",
    )
    assert revoked.status_code == 200
    after = client.introspect_token(endpoint, token=token["refresh_token"])
    assert after.status_code == 200, after.text
    assert after.json() == {"active": False}
    with pytest.raises(OAuthError) as refused:
        client.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert refused.value.error == "invalid_grant"
