"""What a client may register: redirect URIs by app type (web, native per RFC 8252), the
schemes never allowed, grants and authentication that fit together, scopes, the ID-token
algorithm, logo and name; the defaults; and the errors an admin and a registering app get."""

from __future__ import annotations

from dataclasses import replace

import pytest

from authgate.errors import ValidationFailed
from authgate.provider.client_metadata import MAX_URIS, ClientSpec, check_client
from authgate.provider.errors import InvalidClientMetadata, InvalidRedirectUriMetadata
from authgate.provider.models import ApplicationType, AuthMethod, ClientType, GrantType
from authgate.provider.registered_uris import redirect_uri_problem

WEB = ApplicationType.WEB
NATIVE = ApplicationType.NATIVE
SPEC = ClientSpec(name="Planner", redirect_uris=("https://planner.example.com/callback",))

EITHER = [
    "https://planner.example.com/callback",
    "https://planner.example.com/callback/",  # a trailing slash is fine, as registered
    "https://planner.example.com",
    "https://planner.example.com:8443/callback?tenant=acme&x=1",
    "https://planner.example.com/a%20b/c%2Fd",
    "https://[2001:db8::1]/callback",
    "https://xn--plnner-cua.example.com/callback",
    "http://127.0.0.1/callback",
    "http://127.0.0.1:51234/callback",
    "http://[::1]:8080/callback",
]
WEB_ONLY = ["http://localhost:3000/callback", "http://localhost/callback"]
NATIVE_ONLY = [
    "com.example.planner:/oauth2redirect",
    "com.example.planner://callback",
    "com.example.planner:/callback?x=1",
]
NEITHER = [
    # scheme downgrade and look-alike loopback hosts
    "http://planner.example.com/callback",
    "HTTP://planner.example.com/callback",
    "http://127.0.0.1.evil.example/callback",
    "http://localhost.evil.example/callback",
    "http://127.1/callback",
    "http://0.0.0.0/callback",
    # fragments, user information, wildcards
    "https://planner.example.com/callback#",
    "https://planner.example.com/callback#frag",
    "https://user@planner.example.com/callback",
    "https://user:pass@planner.example.com/callback",
    "https://planner.example.com@evil.example/callback",
    "https://*.example.com/callback",
    "https://planner.example.com/*",
    # schemes that never reach an app
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "javascript://planner.example.com/%0aalert(1)",
    "data:text/html;base64,PHNjcmlwdD4=",
    "file:///etc/passwd",
    "vbscript:msgbox(1)",
    "about:blank",
    "blob:https://planner.example.com/uuid",
    # not absolute, or not a URI at all
    "",
    "/callback",
    "//evil.example/callback",
    "planner.example.com/callback",
    "1http://planner.example.com/callback",
    "https:///callback",
    "https:",
    # characters a URI may not hold
    "https://planner.example.com/call back",
    "https://planner.example.com/callback\t",
    "https://planner.example.com/callback\n",
    "https://planner.example.com/callback\r\nLocation: x",
    "https://planner.example.com\\@evil.example/",
    "https://plаnner.example.com/callback",  # a Cyrillic letter a
    "https://planner.example.com/caf\u00e9",
    "https://planner.example.com/%zz",
    "https://planner.example.com/%2",
    "https://planner.example.com/<script>",
    'https://planner.example.com/"quoted"',
    # path traversal, plain and encoded
    "https://planner.example.com/a/../callback",
    "https://planner.example.com/./callback",
    "https://planner.example.com/a/%2e%2e/callback",
    "https://planner.example.com/a/%2E./callback",
    "https://planner.example.com/..",
    # malformed hosts and ports
    "https://planner.example.com:99999/callback",
    "https://planner.example.com:port/callback",
    "https://[::1/callback",
    "https://planner.example.com/" + "x" * 2030,
]
BARE_SCHEME = ["planner:/callback", "myapp://callback"]


@pytest.mark.parametrize("uri", EITHER + WEB_ONLY)
def test_web_apps_may_register(uri: str) -> None:
    assert redirect_uri_problem(uri, WEB) is None
    assert check_client(replace(SPEC, redirect_uris=(uri,))).redirect_uris == (uri,)


@pytest.mark.parametrize("uri", EITHER + NATIVE_ONLY)
def test_native_apps_may_register(uri: str) -> None:
    assert redirect_uri_problem(uri, NATIVE) is None
    spec = replace(SPEC, redirect_uris=(uri,), application_type="native")
    assert check_client(spec).redirect_uris == (uri,)


@pytest.mark.parametrize("uri", NEITHER + NATIVE_ONLY + BARE_SCHEME)
def test_web_apps_may_not_register(uri: str) -> None:
    problem = redirect_uri_problem(uri, WEB)
    assert problem is not None
    with pytest.raises(ValidationFailed) as refused:
        check_client(replace(SPEC, redirect_uris=(uri,)))
    assert refused.value.message.startswith("redirect_uris: ")
    assert problem in refused.value.message
    assert refused.value.details == {"field": "redirect_uris"}


@pytest.mark.parametrize("uri", NEITHER + WEB_ONLY + BARE_SCHEME)
def test_native_apps_may_not_register(uri: str) -> None:
    assert redirect_uri_problem(uri, NATIVE) is not None


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("http://planner.example.com/cb", "use https"),
        ("https://planner.example.com/cb#x", "fragment"),
        ("https://u@planner.example.com/cb", "user information"),
        ("https://*.example.com/cb", "wildcard"),
        ("javascript:alert(1)", "javascript: scheme, which is never allowed"),
        ("DATA:text/html,x", "data: scheme"),
        ("/callback", "not absolute"),
        ("https://planner.example.com/a b", "percent-encode"),
        ("https://planner.example.com/../cb", "'..' path segments"),
        ("https://planner.example.com:70000/cb", "malformed host or port"),
        ("https:///cb", "no host"),
    ],
)
def test_each_refusal_says_what_to_fix(uri: str, says: str) -> None:
    problem = redirect_uri_problem(uri, WEB)
    assert problem is not None
    assert says in problem


def test_native_refusals_name_rfc_8252() -> None:
    assert "127.0.0.1 or [::1]" in str(redirect_uri_problem("http://localhost/cb", NATIVE))
    assert "reverse domain name" in str(redirect_uri_problem("myapp:/cb", NATIVE))
    assert "for a web app" in str(redirect_uri_problem("com.example.app:/cb", WEB))


def test_messages_show_a_refused_uri_short_and_printable() -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_client(replace(SPEC, redirect_uris=("https://a.example/\x00" + "x" * 500,)))
    assert "\x00" not in refused.value.message
    assert "\\x00" in refused.value.message
    assert "x" * 100 not in refused.value.message


def test_post_logout_redirect_uris_follow_the_same_rules() -> None:
    ok = check_client(replace(SPEC, post_logout_redirect_uris=("https://planner.example.com/",)))
    assert ok.post_logout_redirect_uris == ("https://planner.example.com/",)
    for uri in ("javascript:alert(1)", "http://planner.example.com/", "https://p.example/#x"):
        with pytest.raises(ValidationFailed, match=r"^post_logout_redirect_uris: "):
            check_client(replace(SPEC, post_logout_redirect_uris=(uri,)))


def test_uris_are_deduplicated_in_order_and_bounded() -> None:
    a, b = "https://a.example/cb", "https://b.example/cb"
    assert check_client(replace(SPEC, redirect_uris=(b, a, b))).redirect_uris == (b, a)
    many = tuple(f"https://a.example/{i}" for i in range(MAX_URIS + 1))
    with pytest.raises(ValidationFailed, match=f"at most {MAX_URIS}"):
        check_client(replace(SPEC, redirect_uris=many))


def test_defaults_make_a_confidential_web_app() -> None:
    checked = check_client(SPEC)
    assert checked.client_type is ClientType.CONFIDENTIAL
    assert checked.application_type is ApplicationType.WEB
    assert checked.token_endpoint_auth_method is AuthMethod.CLIENT_SECRET_BASIC
    assert checked.grant_types == (GrantType.AUTHORIZATION_CODE,)
    assert checked.scopes == ("openid", "profile", "email")
    assert checked.id_token_signed_response_alg == "RS256"
    assert checked.logo_uri is None
    assert checked.disabled is False
    assert checked.name == "Planner"


def test_refresh_tokens_bring_offline_access_by_default() -> None:
    spec = replace(SPEC, grant_types=("authorization_code", "refresh_token"))
    assert check_client(spec).scopes == ("openid", "profile", "email", "offline_access")


@pytest.mark.parametrize(
    ("client_type", "method", "expected"),
    [
        (None, None, (ClientType.CONFIDENTIAL, AuthMethod.CLIENT_SECRET_BASIC)),
        (None, "none", (ClientType.PUBLIC, AuthMethod.NONE)),
        (None, "client_secret_post", (ClientType.CONFIDENTIAL, AuthMethod.CLIENT_SECRET_POST)),
        ("public", None, (ClientType.PUBLIC, AuthMethod.NONE)),
        ("confidential", None, (ClientType.CONFIDENTIAL, AuthMethod.CLIENT_SECRET_BASIC)),
        (
            "confidential",
            "client_secret_post",
            (ClientType.CONFIDENTIAL, AuthMethod.CLIENT_SECRET_POST),
        ),
    ],
)
def test_client_type_and_auth_method_follow_each_other(
    client_type: str | None, method: str | None, expected: tuple[ClientType, AuthMethod]
) -> None:
    spec = replace(SPEC, client_type=client_type, token_endpoint_auth_method=method)
    checked = check_client(spec)
    assert (checked.client_type, checked.token_endpoint_auth_method) == expected


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        (
            {"client_type": "public", "token_endpoint_auth_method": "client_secret_basic"},
            "token_endpoint_auth_method",
            "public client",
        ),
        (
            {"client_type": "confidential", "token_endpoint_auth_method": "none"},
            "token_endpoint_auth_method",
            "confidential",
        ),
        (
            {"token_endpoint_auth_method": "private_key_jwt"},
            "token_endpoint_auth_method",
            "not supported",
        ),
        ({"client_type": "secretive"}, "client_type", "confidential or public"),
        ({"application_type": "tv"}, "application_type", "web or native"),
        ({"grant_types": ()}, "grant_types", "at least one"),
        ({"grant_types": ("implicit",)}, "grant_types", "'implicit' is not supported"),
        ({"grant_types": ("password",)}, "grant_types", "'password' is not supported"),
        ({"grant_types": ("refresh_token",)}, "grant_types", "refresh_token needs"),
        (
            {"grant_types": ("client_credentials", "refresh_token")},
            "grant_types",
            "refresh_token needs",
        ),
        (
            {"grant_types": ("client_credentials",), "token_endpoint_auth_method": "none"},
            "grant_types",
            "public client cannot",
        ),
        ({"redirect_uris": ()}, "redirect_uris", "at least one redirect URI"),
        ({"scopes": ("openid", "admin")}, "scopes", "'admin' is not offered"),
        ({"scopes": ("OpenID",)}, "scopes", "'OpenID' is not offered"),
        ({"id_token_signed_response_alg": "HS256"}, "id_token_signed_response_alg", "RS256"),
        ({"id_token_signed_response_alg": "none"}, "id_token_signed_response_alg", "EdDSA"),
        ({"logo_uri": "http://planner.example.com/logo.png"}, "logo_uri", "https"),
        ({"logo_uri": "data:image/png;base64,AAAA"}, "logo_uri", "never allowed"),
        ({"logo_uri": "https://u@planner.example.com/l.png"}, "logo_uri", "user information"),
        ({"name": ""}, "name", "1-200 printable"),
        ({"name": "   "}, "name", "1-200 printable"),
        ({"name": "x" * 201}, "name", "1-200 printable"),
        ({"name": "Plan\nner"}, "name", "1-200 printable"),
        ({"name": None}, "name", "1-200 printable"),
    ],
)
def test_refusals_name_the_field(changes: dict[str, object], field: str, says: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_client(replace(SPEC, **changes))  # type: ignore[arg-type]
    assert refused.value.message.startswith(f"{field}: ")
    assert says in refused.value.message


def test_clients_without_redirects_need_no_authorization_code() -> None:
    machine = replace(SPEC, redirect_uris=(), grant_types=("client_credentials",), scopes=())
    assert check_client(machine).grant_types == (GrantType.CLIENT_CREDENTIALS,)
    device = replace(
        SPEC,
        redirect_uris=(),
        grant_types=(GrantType.DEVICE_CODE.value, "refresh_token"),
        token_endpoint_auth_method="none",
        application_type="native",
    )
    checked = check_client(device)
    assert checked.grant_types == (GrantType.DEVICE_CODE, GrantType.REFRESH_TOKEN)
    assert checked.client_type is ClientType.PUBLIC


def test_scopes_are_kept_in_the_canonical_order_and_grants_deduplicated() -> None:
    spec = replace(
        SPEC,
        scopes=("email", "openid", "email"),
        grant_types=("authorization_code", "authorization_code"),
    )
    checked = check_client(spec)
    assert checked.scopes == ("openid", "email")
    assert checked.grant_types == (GrantType.AUTHORIZATION_CODE,)


def test_accepted_values_come_back_checked() -> None:
    spec = replace(
        SPEC,
        name="  Planner  ",
        id_token_signed_response_alg="EdDSA",
        logo_uri="https://planner.example.com/logo.png",
        disabled=True,
    )
    checked = check_client(spec)
    assert checked.name == "Planner"
    assert checked.id_token_signed_response_alg == "EdDSA"
    assert checked.logo_uri == "https://planner.example.com/logo.png"
    assert checked.disabled is True


def test_dynamic_registration_gets_rfc_7591_errors_and_names() -> None:
    with pytest.raises(InvalidRedirectUriMetadata, match=r"^redirect_uris: .*fragment"):
        check_client(replace(SPEC, redirect_uris=("https://p.example/#x",)), dynamic=True)
    with pytest.raises(InvalidRedirectUriMetadata, match=r"^post_logout_redirect_uris: "):
        check_client(replace(SPEC, post_logout_redirect_uris=("about:blank",)), dynamic=True)
    with pytest.raises(InvalidRedirectUriMetadata, match="at least one redirect URI"):
        check_client(replace(SPEC, redirect_uris=()), dynamic=True)
    with pytest.raises(InvalidClientMetadata, match=r"^scope: 'admin'"):
        check_client(replace(SPEC, scopes=("admin",)), dynamic=True)
    with pytest.raises(InvalidClientMetadata, match=r"^client_name: "):
        check_client(replace(SPEC, name=" "), dynamic=True)
    with pytest.raises(InvalidClientMetadata, match=r"^grant_types: "):
        check_client(replace(SPEC, grant_types=("implicit",)), dynamic=True)
    assert check_client(replace(SPEC, name=None), dynamic=True).name is None
