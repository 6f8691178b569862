"""OAuth 2.0 form parsing and client authentication (RFC 6749 §2.3.1, §3.2)."""

from __future__ import annotations

import base64
import contextlib
from urllib.parse import quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authgate.errors import AuthgateError, InvalidClient, OAuthError, PayloadTooLarge
from authgate.http.oauth_forms import (
    FORM_TYPE,
    MAX_FORM_BYTES,
    ClientCredentials,
    client_credentials,
    parse_form,
)


def basic(client_id: str, secret: str, *, encode: bool = True) -> str:
    """An RFC 6749 §2.3.1 Basic header: each part form-urlencoded, then base64."""
    if encode:
        client_id, secret = quote_plus(client_id), quote_plus(secret)
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


# --- parse_form ----------------------------------------------------------------------------


def test_parse_form_decodes_parameters() -> None:
    body = b"grant_type=client_credentials&scope=a+b&note=x%26y%3Dz&empty="
    assert parse_form(body, FORM_TYPE) == {
        "grant_type": "client_credentials",
        "scope": "a b",
        "note": "x&y=z",
        "empty": "",
    }


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=UTF-8",
        "Application/X-WWW-Form-Urlencoded",
        "  application/x-www-form-urlencoded ;charset=utf-8",
    ],
)
def test_the_form_media_type_is_accepted_with_parameters_and_any_case(content_type: str) -> None:
    assert parse_form(b"a=1", content_type) == {"a": "1"}


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "application/json",
        "multipart/form-data; boundary=x",
        "text/plain",
        "application/x-www-form-urlencoded-evil",
        "application/x-www-form-urlencodedx; charset=utf-8",
        "x-application/x-www-form-urlencoded",
    ],
)
def test_other_content_types_are_refused(content_type: str | None) -> None:
    with pytest.raises(OAuthError) as caught:
        parse_form(b"grant_type=client_credentials", content_type)
    assert caught.value.status == 400
    assert caught.value.code == "invalid_request"


@pytest.mark.parametrize(
    "body",
    [
        b"grant_type=a&grant_type=b",
        b"grant_type=a&grant_type=a",
        b"scope=a&x=1&scope=",
        b"client_id=a&%63lient_id=b",  # the same name, percent-encoded
        b"client_id=a&client%5Fid=b",
    ],
)
def test_a_parameter_given_twice_is_refused(body: bytes) -> None:
    with pytest.raises(OAuthError, match="more than once"):
        parse_form(body, FORM_TYPE)


def test_an_oversized_form_is_refused_before_parsing() -> None:
    at_limit = b"a=" + b"x" * (MAX_FORM_BYTES - 2)
    assert parse_form(at_limit, FORM_TYPE) == {"a": "x" * (MAX_FORM_BYTES - 2)}
    with pytest.raises(PayloadTooLarge) as caught:
        parse_form(at_limit + b"x", FORM_TYPE)
    assert caught.value.status == 413
    # Size is checked before the content type: no work at all for a huge body.
    with pytest.raises(PayloadTooLarge):
        parse_form(b"x" * (10 * MAX_FORM_BYTES), "application/json")


@pytest.mark.parametrize("body", [b"a=\xff", b"\xc3\x28=1", b"a=\xed\xa0\x80"])
def test_invalid_utf8_is_refused(body: bytes) -> None:
    with pytest.raises(OAuthError, match="UTF-8"):
        parse_form(body, FORM_TYPE)


def test_the_error_for_a_repeated_parameter_does_not_echo_a_long_name() -> None:
    name = "n" * 5000
    with pytest.raises(OAuthError) as caught:
        parse_form(f"{name}=1&{name}=2".encode(), FORM_TYPE)
    assert len(caught.value.message) < 200


@given(
    body=st.binary(max_size=2 * MAX_FORM_BYTES // 64), content_type=st.none() | st.text(max_size=60)
)
def test_parse_form_fails_only_with_authgate_errors(body: bytes, content_type: str | None) -> None:
    try:
        form = parse_form(body, content_type)
    except AuthgateError:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in form.items())


@given(
    pairs=st.lists(st.tuples(st.text(min_size=1, max_size=10), st.text(max_size=10)), max_size=8)
)
def test_parse_form_round_trips_encoded_forms(pairs: list[tuple[str, str]]) -> None:
    body = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in pairs).encode()
    names = [k for k, _ in pairs]
    if len(set(names)) != len(names):
        with pytest.raises(OAuthError):
            parse_form(body, FORM_TYPE)
        return
    assert parse_form(body, FORM_TYPE) == dict(pairs)


# --- client_credentials --------------------------------------------------------------------


def test_credentials_from_the_body() -> None:
    form = {"client_id": "svc_abc", "client_secret": "s3cret"}
    assert client_credentials(form, None) == ClientCredentials("svc_abc", "s3cret")
    assert client_credentials(form, "") == ClientCredentials("svc_abc", "s3cret")
    assert client_credentials({"client_id": "public"}, None) == ClientCredentials("public", None)
    assert client_credentials({}, None) == ClientCredentials(None, None)


def test_credentials_from_basic() -> None:
    assert client_credentials({}, basic("svc_abc", "s3cret")) == ClientCredentials(
        "svc_abc", "s3cret"
    )
    # The scheme is case-insensitive.
    header = basic("svc_abc", "s3cret").replace("Basic", "bAsIc")
    assert client_credentials({}, header) == ClientCredentials("svc_abc", "s3cret")


@pytest.mark.parametrize(
    ("client_id", "secret"),
    [
        ("svc:with:colons", "p@ss:w%rd+plus sp&ce=x"),
        ("ünïcödé client", "sécret/🔑"),
        ("a b", "+"),
        ("id", ""),
        ("%41", "%2B"),  # literal percent signs must survive the round trip
    ],
)
def test_basic_parts_are_form_urlencoded(client_id: str, secret: str) -> None:
    """RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding."""
    assert client_credentials({}, basic(client_id, secret)) == ClientCredentials(client_id, secret)


def test_a_raw_colon_in_the_secret_is_kept() -> None:
    header = basic("svc_abc", "a:b:c", encode=False)
    assert client_credentials({}, header) == ClientCredentials("svc_abc", "a:b:c")


def test_basic_and_a_body_secret_together_are_refused() -> None:
    form = {"client_id": "svc_abc", "client_secret": "s3cret"}
    with pytest.raises(OAuthError, match="not both") as caught:
        client_credentials(form, basic("svc_abc", "s3cret"))
    assert caught.value.code == "invalid_request"
    # Even an empty body secret counts as a second credential.
    with pytest.raises(OAuthError):
        client_credentials({"client_secret": ""}, basic("svc_abc", "s3cret"))


def test_a_body_client_id_must_match_basic() -> None:
    assert client_credentials({"client_id": "svc_abc"}, basic("svc_abc", "s")) == (
        ClientCredentials("svc_abc", "s")
    )
    with pytest.raises(InvalidClient) as caught:
        client_credentials({"client_id": "svc_other"}, basic("svc_abc", "s"))
    assert caught.value.status == 401
    assert caught.value.code == "invalid_client"
    with pytest.raises(InvalidClient):
        client_credentials({"client_id": ""}, basic("svc_abc", "s"))


@pytest.mark.parametrize(
    "header",
    [
        "Bearer abc",
        "Digest username=x",
        "Basic",
        "Basic ",
        "Basic !!!!",
        "Basic c3ZjX2FiYw",  # unpadded
        "Basic c3ZjX2FiYw==",  # "svc_abc": no colon
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),  # not UTF-8
        "Basic " + base64.urlsafe_b64encode(b"\xfb\xff:\xfe\xff").decode(),  # url-safe alphabet
        "Basic c3Zj X2FiYzpz",
        "Basicc3ZjX2FiYzpz",
        "NTLM TlRMTVNTUAAB",
    ],
)
def test_malformed_authorization_is_invalid_client(header: str) -> None:
    with pytest.raises(InvalidClient):
        client_credentials({}, header)


def test_error_messages_never_echo_the_credentials() -> None:
    canary = "CANARY-secret-9f8e7d"
    for form, header in (
        ({"client_id": "other"}, basic("svc", canary)),
        ({"client_secret": canary}, basic("svc", canary)),
        ({}, "Basic " + base64.b64encode(canary.encode()).decode()),
        ({}, "Bearer " + canary),
    ):
        with pytest.raises(AuthgateError) as caught:
            client_credentials(form, header)
        assert canary not in str(caught.value)
        assert canary not in repr(caught.value.details)


# ASCII only for now: non-ASCII Basic credentials currently escape as ValueError (reported).
ASCII_TEXT = st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=200)


@given(authorization=ASCII_TEXT)
def test_arbitrary_authorization_headers_fail_only_with_authgate_errors(
    authorization: str,
) -> None:
    with contextlib.suppress(AuthgateError):
        client_credentials({}, authorization)


@given(scheme=st.sampled_from(["Basic", "basic", "BASIC"]), encoded=ASCII_TEXT)
def test_arbitrary_basic_payloads_fail_only_with_authgate_errors(scheme: str, encoded: str) -> None:
    with contextlib.suppress(AuthgateError):
        client_credentials({}, f"{scheme} {encoded}")


@given(raw=st.binary(max_size=120), body_id=st.none() | st.text(max_size=10))
def test_arbitrary_decoded_basic_credentials_fail_only_with_authgate_errors(
    raw: bytes, body_id: str | None
) -> None:
    form = {} if body_id is None else {"client_id": body_id}
    try:
        creds = client_credentials(form, "Basic " + base64.b64encode(raw).decode())
    except AuthgateError:
        return
    assert isinstance(creds.client_id, str)
    assert isinstance(creds.client_secret, str)
