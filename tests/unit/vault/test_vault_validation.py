"""What an administrator may submit: names, hosts, URLs and the fields of each kind."""

from __future__ import annotations

from dataclasses import replace

import pytest

from authgate.vault.errors import InvalidCredential
from authgate.vault.models import CredentialKind, CredentialSpec, OAuthClientConfig, SecretFields
from authgate.vault.validation import check_host, check_name, check_spec, check_url

OAUTH = OAuthClientConfig(
    authorize_url="https://login.example.com/authorize",
    token_url="https://login.example.com/token",
    client_id="client-1",
    scopes=("openid",),
)


def spec(kind: CredentialKind = CredentialKind.API_KEY, **kw: object) -> CredentialSpec:
    fields = {name: "canary-field-value" for name in kind.secret_fields}
    values: dict[str, object] = {
        "kind": kind,
        "secret": SecretFields(fields),
        "allowed_hosts": ("api.example.com",),
        "oauth": OAUTH if kind is CredentialKind.OAUTH_CLIENT else None,
    }
    values.update(kw)
    return CredentialSpec(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["crm.oauth", "sales.db", "a", "A-b_c.9", "x" * 128])
def test_good_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "x" * 129, "a b", "a/b", "a:b", "ä", "a\n", "../x", "a%2e", "a@b", "*"]
)
def test_bad_names(name: str) -> None:
    with pytest.raises(InvalidCredential, match="1 to 128"):
        check_name(name)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("API.Example.COM", "api.example.com"),
        ("api.example.com.", "api.example.com"),
        ("10.0.0.1", "10.0.0.1"),
        ("[2001:DB8::1]", "2001:db8::1"),
        ("2001:db8:0:0::1", "2001:db8::1"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("localhost", "localhost"),
    ],
)
def test_hosts_are_normalised(host: str, expected: str) -> None:
    assert check_host(host) == expected


@pytest.mark.parametrize(
    "host",
    [
        "",
        "https://api.example.com",
        "api.example.com:443",
        "api.example.com/path",
        "*.example.com",
        "user@api.example.com",
        "bücher.example",
        "-bad.example.com",
        "bad-.example.com",
        "a..b",
        "a" * 64 + ".com",
        "1.2.3",
        "256.1.1.1",
        "api example.com",
        "api.example.com\r\nx",
    ],
)
def test_bad_hosts(host: str) -> None:
    with pytest.raises(InvalidCredential, match="not a host name or IP address"):
        check_host(host)


@pytest.mark.parametrize("kind", [k for k in CredentialKind if k.goes_over_http])
def test_http_kinds_need_allowed_hosts(kind: CredentialKind) -> None:
    with pytest.raises(InvalidCredential, match="needs allowedHosts"):
        check_spec(spec(kind, allowed_hosts=()))


def test_an_sql_connection_needs_no_hosts_and_never_goes_to_a_device() -> None:
    sql = spec(CredentialKind.SQL_CONNECTION, allowed_hosts=())
    with pytest.raises(InvalidCredential, match="connection URL"):
        check_spec(sql)
    good = spec(
        CredentialKind.SQL_CONNECTION,
        secret=SecretFields({"value": "postgresql://u:p@db.internal/sales"}),
        allowed_hosts=(),
    )
    assert check_spec(good).allowed_hosts == ()
    with pytest.raises(InvalidCredential, match="never sent to a device"):
        check_spec(spec(CredentialKind.SQL_CONNECTION, secret=good.secret, device_usable=True))


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        (CredentialKind.API_KEY, {}),
        (CredentialKind.API_KEY, {"value": "x", "password": "y"}),
        (CredentialKind.BASIC, {"value": "x"}),
        (CredentialKind.BASIC, {"username": "u"}),
        (CredentialKind.OAUTH_CLIENT, {"value": "x"}),
    ],
)
def test_each_kind_takes_exactly_its_fields(kind: CredentialKind, fields: dict[str, str]) -> None:
    with pytest.raises(InvalidCredential, match="takes exactly"):
        check_spec(spec(kind, secret=SecretFields(fields)))


@pytest.mark.parametrize("value", ["", "x" * 8193, "line\r\nInjected: 1", "nul\x00", "new\nline"])
def test_bad_values_are_refused_without_being_repeated(value: str) -> None:
    with pytest.raises(InvalidCredential) as caught:
        check_spec(spec(secret=SecretFields({"value": value})))
    if value:
        assert value not in caught.value.message


def test_a_basic_username_cannot_hold_a_colon() -> None:
    fields = SecretFields({"username": "a:b", "password": "p"})
    with pytest.raises(InvalidCredential, match="':'"):
        check_spec(spec(CredentialKind.BASIC, secret=fields))


@pytest.mark.parametrize(
    "url",
    [
        "http://login.example.com/authorize",
        "ftp://login.example.com/",
        "https://user:pw@login.example.com/",
        "https:///nohost",
        "login.example.com/authorize",
        "javascript:alert(1)",
        "https://login.example.com/#frag",
        "https://[::1/",
    ],
)
def test_bad_oauth_urls(url: str) -> None:
    with pytest.raises(InvalidCredential):
        check_url("tokenUrl", url)


@pytest.mark.parametrize("url", ["https://login.example.com/t?x=1", "http://127.0.0.1:8080/t"])
def test_good_oauth_urls(url: str) -> None:
    assert check_url("tokenUrl", url) == url


@pytest.mark.parametrize(
    "params", [(("state", "x"),), (("redirect_uri", "https://evil"),), (("Code_Challenge", "x"),)]
)
def test_extra_authorize_params_cannot_override_oauth_parameters(
    params: tuple[tuple[str, str], ...],
) -> None:
    oauth = replace(OAUTH, extra_authorize_params=params)
    with pytest.raises(InvalidCredential, match="authgate sets the OAuth parameters"):
        check_spec(spec(CredentialKind.OAUTH_CLIENT, oauth=oauth))


def test_oauth_settings_are_required_for_and_only_for_oauth_clients() -> None:
    with pytest.raises(InvalidCredential, match="needs authorizeUrl"):
        check_spec(spec(CredentialKind.OAUTH_CLIENT, oauth=None))
    with pytest.raises(InvalidCredential, match="only to oauth_client"):
        check_spec(spec(CredentialKind.API_KEY, oauth=OAUTH))
    bad_scope = replace(OAUTH, scopes=("has space",))
    with pytest.raises(InvalidCredential, match="scope tokens"):
        check_spec(spec(CredentialKind.OAUTH_CLIENT, oauth=bad_scope))


def test_hosts_are_deduplicated_in_order() -> None:
    checked = check_spec(spec(allowed_hosts=("B.example", "a.example", "b.example.")))
    assert checked.allowed_hosts == ("b.example", "a.example")
