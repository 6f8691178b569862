"""The authorization request's checks and redirect URI matching (RFC 6749 §3.1.2, §4.1.1;
RFC 7636; RFC 8252 §7.3; SECURITY.md "Our OAuth 2.0 / OpenID provider")."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from authgate.errors import InvalidScope, OAuthError
from authgate.provider.authorization import AuthorizationRequest, check_request, redirect_target
from authgate.provider.errors import (
    InvalidAuthorizationRequest,
    InvalidRedirect,
    RequestNotSupported,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from authgate.provider.models import (
    ApplicationType,
    AuthMethod,
    ClientType,
    GrantType,
    OAuthClient,
)
from authgate.provider.redirect_uris import match_redirect_uri, with_query

NOW = datetime(2026, 11, 23, tzinfo=UTC)
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
WEB = OAuthClient(
    client_id="app_web",
    org_id="org1",
    name="Planner",
    client_type=ClientType.CONFIDENTIAL,
    application_type=ApplicationType.WEB,
    redirect_uris=("https://planner.example.com/callback",),
    post_logout_redirect_uris=("https://planner.example.com/",),
    grant_types=(GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN),
    scopes=("openid", "profile", "email", "offline_access"),
    token_endpoint_auth_method=AuthMethod.CLIENT_SECRET_BASIC,
    id_token_signed_response_alg="RS256",
    secret_hash="x",
    logo_uri=None,
    created_at=NOW,
    updated_at=NOW,
)
NATIVE = replace(
    WEB,
    client_id="app_native",
    client_type=ClientType.PUBLIC,
    application_type=ApplicationType.NATIVE,
    redirect_uris=("http://127.0.0.1/callback", "com.example.planner:/oauth"),
    token_endpoint_auth_method=AuthMethod.NONE,
    secret_hash=None,
)
REGISTERED = "https://planner.example.com/callback"


@pytest.mark.parametrize(
    "uri",
    [
        "https://planner.example.com/callback/",
        "https://planner.example.com/Callback",
        "https://Planner.example.com/callback",
        "https://planner.example.com/callback?x=1",
        "https://planner.example.com/callback#frag",
        "https://planner.example.com/callback/../callback",
        "https://planner.example.com/callback/%2e%2e/x",
        "https://planner.example.com/%63allback",
        "https://planner.example.com:443/callback",
        "https://planner.example.com.evil.com/callback",
        "https://planner.example.com@evil.com/callback",
        "https://evil.com@planner.example.com/callback",
        "https://evil.com/https://planner.example.com/callback",
        "http://planner.example.com/callback",
        "javascript:alert(1)//https://planner.example.com/callback",
        "data:text/html,https://planner.example.com/callback",
        " https://planner.example.com/callback",
        "https://planner.example.com/callback\n",
        "https://planner.example.com/callback\x00",
        "http://127.0.0.1/callback",
        "x" * 5000,
    ],
)
def test_only_the_exact_registered_uri_is_accepted(uri: str) -> None:
    with pytest.raises(InvalidRedirect):
        match_redirect_uri(WEB, uri)
    assert match_redirect_uri(WEB, REGISTERED) == REGISTERED


def test_a_native_apps_loopback_port_may_vary_but_nothing_else() -> None:
    assert match_redirect_uri(NATIVE, "http://127.0.0.1:51234/callback") == (
        "http://127.0.0.1:51234/callback"
    )
    assert match_redirect_uri(NATIVE, "http://127.0.0.1/callback") == "http://127.0.0.1/callback"
    for bad in (
        "http://127.0.0.1:51234/callback/",
        "http://127.0.0.1:51234/other",
        "http://127.0.0.1:0/callback",
        "http://127.0.0.1:99999/callback",
        "http://localhost:51234/callback",
        "http://127.0.0.2:51234/callback",
        "https://127.0.0.1:51234/callback",
        "http://127.0.0.1:51234/callback#x",
        "http://[::1]:51234/callback",
        "com.example.planner:/oauth/x",
    ):
        with pytest.raises(InvalidRedirect):
            match_redirect_uri(NATIVE, bad)
    assert match_redirect_uri(NATIVE, "com.example.planner:/oauth") == "com.example.planner:/oauth"


def test_a_web_apps_loopback_port_is_exact() -> None:
    web = replace(WEB, redirect_uris=("http://127.0.0.1:8080/cb",))
    assert match_redirect_uri(web, "http://127.0.0.1:8080/cb") == "http://127.0.0.1:8080/cb"
    with pytest.raises(InvalidRedirect):
        match_redirect_uri(web, "http://127.0.0.1:8081/cb")


def test_a_missing_redirect_uri_is_only_inferred_from_a_single_registration() -> None:
    assert match_redirect_uri(WEB, None) == REGISTERED
    with pytest.raises(InvalidRedirect, match="several"):
        match_redirect_uri(NATIVE, None)
    with pytest.raises(InvalidRedirect):
        match_redirect_uri(replace(WEB, redirect_uris=()), None)


def test_with_query_keeps_the_uris_own_query() -> None:
    assert with_query("https://a.example/cb?x=1", [("code", "c d")]) == (
        "https://a.example/cb?x=1&code=c+d"
    )
    assert with_query("https://a.example/cb", [("state", "&")]) == "https://a.example/cb?state=%26"


def _params(**extra: str) -> dict[str, str]:
    params = {
        "client_id": WEB.client_id,
        "response_type": "code",
        "scope": "openid email",
        "redirect_uri": REGISTERED,
        "state": "s-1",
        "nonce": "n-1",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return {k: v for k, v in params.items() if v != "<drop>"}


def _check(client: OAuthClient = WEB, **extra: str) -> AuthorizationRequest:
    params = _params(**extra)
    return check_request(client, params, redirect_target(client, params))


def test_a_good_request_is_kept_whole() -> None:
    checked = _check(prompt="login consent", max_age="60", login_hint="ada@acme.example")
    assert checked.scope == "email openid"
    assert checked.redirect_uri == REGISTERED
    assert checked.redirect_uri_given
    assert (checked.state, checked.nonce, checked.code_challenge) == ("s-1", "n-1", CHALLENGE)
    assert checked.prompt == ("login", "consent")
    assert checked.max_age == 60
    assert checked.login_hint == "ada@acme.example"
    assert AuthorizationRequest.from_dict(checked.as_dict()) == checked


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"response_type": "<drop>"}, InvalidAuthorizationRequest),
        ({"response_type": "token"}, UnsupportedResponseType),
        ({"response_type": "code id_token"}, UnsupportedResponseType),
        ({"response_type": "id_token"}, UnsupportedResponseType),
        ({"response_mode": "fragment"}, InvalidAuthorizationRequest),
        ({"response_mode": "form_post"}, InvalidAuthorizationRequest),
        ({"scope": "<drop>"}, InvalidScope),
        ({"scope": "openid admin"}, InvalidScope),
        ({"scope": "openid\x01"}, InvalidScope),
        ({"code_challenge_method": "plain"}, InvalidAuthorizationRequest),
        ({"code_challenge_method": "<drop>"}, InvalidAuthorizationRequest),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, InvalidAuthorizationRequest),
        ({"code_challenge": "<drop>"}, InvalidAuthorizationRequest),
        ({"prompt": "none login"}, InvalidAuthorizationRequest),
        ({"prompt": "always"}, InvalidAuthorizationRequest),
        ({"max_age": "-1"}, InvalidAuthorizationRequest),
        ({"max_age": "1e3"}, InvalidAuthorizationRequest),
        ({"max_age": "٣"}, InvalidAuthorizationRequest),
        ({"state": "x" * 3000}, InvalidAuthorizationRequest),
        ({"nonce": "a\nb"}, InvalidAuthorizationRequest),
        ({"request": "eyJ..."}, RequestNotSupported),
    ],
)
def test_bad_requests_are_refused_with_their_oauth_error(
    extra: dict[str, str], error: type[OAuthError]
) -> None:
    with pytest.raises(error):
        _check(**extra)


def test_public_clients_must_use_pkce_and_confidential_ones_may() -> None:
    with pytest.raises(InvalidAuthorizationRequest, match="PKCE is required"):
        _check(
            NATIVE,
            redirect_uri="http://127.0.0.1:5000/callback",
            code_challenge="<drop>",
            code_challenge_method="<drop>",
        )
    checked = _check(code_challenge="<drop>", code_challenge_method="<drop>")
    assert checked.code_challenge is None


def test_a_client_without_the_code_grant_is_unauthorized() -> None:
    service = replace(WEB, grant_types=(GrantType.CLIENT_CREDENTIALS,))
    with pytest.raises(UnauthorizedClient):
        _check(service)


def test_an_unusable_login_hint_is_dropped_not_fatal() -> None:
    assert _check(login_hint="x" * 300).login_hint is None
    assert _check(login_hint="a\tb").login_hint is None
