"""Pure checks of SSO: IdP metadata (OpenID Connect Discovery §4.3, Entra ID aliases), IdP
URLs, the app's redirect URIs (exact match, loopback ports) and PKCE parameters."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authgate.federation.errors import InvalidIdpConfig, InvalidLoginRequest, InvalidRedirectUri
from authgate.federation.metadata import (
    discovery_url,
    entra_pattern,
    entra_tenant,
    from_endpoints,
    parse_document,
)
from authgate.federation.models import Endpoints, IdpType
from authgate.federation.redirects import AppRedirects, check_challenge, is_verifier, with_query
from authgate.federation.urls import check_idp_url

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
MS = "https://login.microsoftonline.com"


def document(issuer: str, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": "https://keys.example/jwks",
    }
    values.update(changes)
    return values


def test_the_metadata_must_name_the_configured_issuer_exactly() -> None:
    found = parse_document(document("https://idp.example"), IdpType.OIDC, "https://idp.example")

    assert found.token_endpoint == "https://idp.example/token"
    assert found.signing_algorithms == ("RS256",)
    assert not found.iss_parameter
    for configured in ("https://idp.example/", "https://IDP.example", "http://idp.example"):
        with pytest.raises(InvalidIdpConfig, match="another issuer"):
            parse_document(document("https://idp.example"), IdpType.OIDC, configured)


@pytest.mark.parametrize(
    ("configured", "answered", "accepted"),
    [
        (f"{MS}/organizations/v2.0", f"{MS}/{{tenantid}}/v2.0", True),
        (f"{MS}/contoso.onmicrosoft.com/v2.0", f"{MS}/{TENANT}/v2.0", True),
        (f"{MS}/organizations/v2.0", f"{MS}/{TENANT}/v1.0", False),
        (f"{MS}/organizations/v2.0", "https://evil.example/{tenantid}/v2.0", False),
        (f"{MS}/organizations/v2.0", f"{MS}/not-a-tenant/v2.0", False),
    ],
)
def test_entra_answers_for_its_alias(configured: str, answered: str, accepted: bool) -> None:
    if accepted:
        assert parse_document(document(answered), IdpType.ENTRA, configured).issuer == answered
    else:
        with pytest.raises(InvalidIdpConfig):
            parse_document(document(answered), IdpType.ENTRA, configured)
    with pytest.raises(InvalidIdpConfig):  # only Entra ID answers for an alias
        parse_document(document(answered), IdpType.OIDC, configured)


def test_entra_tenants_and_patterns() -> None:
    assert entra_tenant(f"{MS}/{TENANT}/v2.0") == TENANT
    assert entra_tenant(f"{MS}/organizations/v2.0") is None
    assert entra_pattern(f"{MS}/common/v2.0") == f"{MS}/{{tenantid}}/v2.0"
    assert entra_pattern(f"{MS}/{TENANT}/v2.0") == f"{MS}/{TENANT}/v2.0"
    assert discovery_url("https://idp.example/") == (
        "https://idp.example/.well-known/openid-configuration"
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"token_endpoint": "http://idp.example/token"}, "https://"),
        ({"jwks_uri": None}, "jwks_uri"),
        ({"authorization_endpoint": 5}, "authorization_endpoint"),
        ({"id_token_signing_alg_values_supported": ["none", "HS256"]}, "refuses"),
        ({"id_token_signing_alg_values_supported": "RS256"}, "not a list"),
        ({"token_endpoint_auth_methods_supported": ["private_key_jwt"]}, "neither"),
    ],
)
def test_unusable_metadata_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidIdpConfig, match=message):
        parse_document(
            document("https://idp.example", **changes), IdpType.OIDC, "https://idp.example"
        )


def test_what_the_metadata_says_about_algorithms_iss_and_client_auth() -> None:
    found = parse_document(
        document(
            "https://idp.example",
            id_token_signing_alg_values_supported=["HS256", "ES256", "RS256", "none"],
            authorization_response_iss_parameter_supported=True,
            token_endpoint_auth_methods_supported=["client_secret_post"],
            end_session_endpoint="https://idp.example/logout",
        ),
        IdpType.OKTA,
        "https://idp.example",
    )

    assert found.signing_algorithms == ("RS256", "ES256")
    assert found.iss_parameter
    assert found.secret_in_body
    assert found.end_session_endpoint == "https://idp.example/logout"


def test_explicit_endpoints_must_be_on_the_issuers_origin() -> None:
    good = Endpoints("https://idp.example/a", "https://idp.example:443/t", "https://idp.example/k")
    assert from_endpoints(IdpType.OIDC, "https://idp.example/x", good).jwks_uri == good.jwks_uri
    for bad in (
        Endpoints("https://idp.example/a", "https://idp.example/t", "https://keys.example/k"),
        Endpoints("https://idp.example/a", "https://idp.example:8443/t", "https://idp.example/k"),
        Endpoints(
            "https://idp.example/a",
            "https://idp.example/t",
            "https://idp.example/k",
            "https://x.example/l",
        ),
    ):
        with pytest.raises(InvalidIdpConfig, match="origin"):
            from_endpoints(IdpType.OIDC, "https://idp.example/x", bad)
    entra = Endpoints(f"{MS}/a", f"{MS}/t", f"{MS}/k")
    assert from_endpoints(IdpType.ENTRA, f"{MS}/common/v2.0", entra).is_template


@pytest.mark.parametrize(
    "url",
    [
        "http://idp.example", "ftp://idp.example", "https://", "https:///path", "https://a b",
        "https://idp.example:99999", "https://u@idp.example", "https://idp.example/#f",
        "https://idp.example/\x00", "https://idp.éxample", "x" * 3000, "",
    ],
)  # fmt: skip
def test_idp_urls_are_https_without_tricks(url: str) -> None:
    with pytest.raises(InvalidIdpConfig):
        check_idp_url(url, "issuer")


@pytest.mark.parametrize(
    "url",
    ["https://idp.example/a", "http://127.0.0.1:8080/x", "http://[::1]/x", "http://localhost/x"],
)
def test_https_or_loopback_http_is_accepted(url: str) -> None:
    assert check_idp_url(url, "issuer") == url


REGISTERED = AppRedirects(
    {"app": ("com.example.app:/sso", "http://127.0.0.1/callback", "http://[::1]/cb?x=1")}
)


@pytest.mark.parametrize(
    "uri",
    [
        "com.example.app:/sso",
        "http://127.0.0.1/callback",
        "http://127.0.0.1:1/callback",
        "http://127.0.0.1:65535/callback",
        "http://[::1]:8000/cb?x=1",
    ],
)
def test_registered_uris_match_exactly_and_loopback_ports_vary(uri: str) -> None:
    assert REGISTERED.check("app", uri) == uri


@pytest.mark.parametrize(
    "uri",
    [
        "com.example.app:/sso/",
        "com.example.app://sso",
        "COM.example.app:/sso",
        "com.example.app:/sso?x=1",
        "http://127.0.0.1:0/callback",
        "http://127.0.0.1:65536/callback",
        "http://127.0.0.1:8080/callback/",
        "http://127.0.0.1:8080/callback#x",
        "http://127.0.0.1:/callback",
        "http://127.0.0.1:+80/callback",
        "http://127.0.0.2/callback",
        "http://localhost/callback",
        "http://[::1]:80/cb",
        "http://[::1]:80/cb?x=2",
        "https://127.0.0.1/callback",
    ],
)
def test_anything_else_is_refused(uri: str) -> None:
    with pytest.raises(InvalidRedirectUri):
        REGISTERED.check("app", uri)


def test_an_unknown_client_or_missing_uri_is_refused() -> None:
    with pytest.raises(InvalidRedirectUri, match="client_id"):
        REGISTERED.check("other", "com.example.app:/sso")
    with pytest.raises(InvalidRedirectUri, match="required"):
        REGISTERED.check("app", None)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80))
def test_random_uris_are_refused_unless_registered(uri: str) -> None:
    try:
        accepted = REGISTERED.check("app", uri)
    except InvalidRedirectUri:
        return
    assert accepted == uri
    assert uri.startswith(("com.example.app:/sso", "http://127.0.0.1", "http://[::1]"))


def test_pkce_parameters() -> None:
    assert check_challenge("a" * 43, "S256") == "a" * 43
    for challenge, method in (
        ("a" * 43, "plain"),
        ("a" * 43, None),
        ("a" * 42, "S256"),
        (None, "S256"),
    ):
        with pytest.raises(InvalidLoginRequest):
            check_challenge(challenge, method)
    assert is_verifier("A-._~" + "a" * 38)
    assert not is_verifier("a" * 42)
    assert not is_verifier("a" * 129)
    assert not is_verifier("a" * 42 + "+")


def test_query_parameters_are_appended_to_the_uris_own() -> None:
    assert with_query("http://127.0.0.1/cb", [("code", "a b")]) == "http://127.0.0.1/cb?code=a+b"
    assert with_query("http://[::1]/cb?x=1", [("code", "c")]) == "http://[::1]/cb?x=1&code=c"
