"""RFC 5849 §3.5: parsing the Authorization header and collecting parameters from one place."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authgate.signedfetch.errors import InvalidOAuthRequest
from authgate.signedfetch.parameters import (
    Placement,
    collect_parameters,
    is_form_body,
    parse_authorization_header,
    parse_form,
)

FORM = "application/x-www-form-urlencoded"


def test_header_values_are_unquoted_and_percent_decoded() -> None:
    header = 'OAuth realm="Photos",oauth_consumer_key="a%20b",  oauth_nonce = "x%2By%C3%A9" ,'
    assert parse_authorization_header(header) == [
        ("realm", "Photos"),
        ("oauth_consumer_key", "a b"),
        ("oauth_nonce", "x+yé"),
    ]


@pytest.mark.parametrize("scheme", ["OAuth", "oauth", "OAUTH"])
def test_scheme_is_case_insensitive(scheme: str) -> None:
    assert parse_authorization_header(f'{scheme} oauth_nonce="n"') == [("oauth_nonce", "n")]


def test_plus_in_a_header_value_stays_a_plus() -> None:
    # Header values are RFC 3986 encoded, not form-encoded: '+' is a literal plus.
    assert parse_authorization_header('OAuth a="1+2"') == [("a", "1+2")]


def test_plus_in_a_query_is_a_space() -> None:
    assert parse_form("a=1+2&b=%2B&c") == [("a", "1 2"), ("b", "+"), ("c", "")]


def test_form_keeps_duplicates_in_order() -> None:
    assert parse_form("a=2&a=1&&a=2") == [("a", "2"), ("a", "1"), ("a", "2")]


@pytest.mark.parametrize(
    "header",
    [
        "OAuth oauth_nonce=unquoted",
        'OAuth oauth_nonce="unterminated',
        'OAuth "oauth_nonce"="x"',
        'OAuth oauth_nonce="a" oauth_token="b"',
        'OAuth =""',
        'OAuth oauth_nonce="bad%zzescape"',
        'OAuth oauth_nonce="trailing%"',
        'OAuth oauth_nonce="%FF%FE"',
        'OAuth oauth_nonce="a"junk',
    ],
)
def test_malformed_headers_are_refused(header: str) -> None:
    with pytest.raises(InvalidOAuthRequest):
        parse_authorization_header(header)


def test_a_header_of_another_scheme_is_refused_by_the_parser() -> None:
    with pytest.raises(InvalidOAuthRequest, match="OAuth scheme"):
        parse_authorization_header("Bearer abc")


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        (FORM, True),
        ("Application/X-WWW-Form-URLEncoded; charset=utf-8", True),
        ("application/json", False),
        ("multipart/form-data; boundary=x", False),
        ("text/plain; x=application/x-www-form-urlencoded", False),
        (None, False),
    ],
)
def test_form_bodies_are_recognised_by_media_type(content_type: str | None, expected: bool) -> None:
    assert is_form_body(content_type) is expected


@pytest.mark.parametrize(
    ("header", "query", "body", "placement"),
    [
        ('OAuth oauth_nonce="n"', "a=1", b"b=2", Placement.HEADER),
        (None, "oauth_nonce=n&a=1", b"b=2", Placement.QUERY),
        (None, "a=1", b"oauth_nonce=n&b=2", Placement.BODY),
    ],
)
def test_protocol_parameters_from_each_place(
    header: str | None, query: str, body: bytes, placement: Placement
) -> None:
    collected = collect_parameters(header, query, body, FORM)
    assert collected.placement is placement
    assert collected.protocol == {"oauth_nonce": "n"}
    assert sorted(collected.signed) == [("a", "1"), ("b", "2"), ("oauth_nonce", "n")]


@pytest.mark.parametrize(
    ("header", "query", "body"),
    [
        ('OAuth oauth_nonce="n"', "oauth_timestamp=1", b""),
        ('OAuth oauth_nonce="n"', "", b"oauth_timestamp=1"),
        (None, "oauth_nonce=n", b"oauth_timestamp=1"),
        ('OAuth oauth_nonce="n"', "oauth_nonce=n", b"oauth_nonce=n"),
    ],
)
def test_protocol_parameters_in_two_places_are_refused(
    header: str | None, query: str, body: bytes
) -> None:
    with pytest.raises(InvalidOAuthRequest, match="one place only"):
        collect_parameters(header, query, body, FORM)


@pytest.mark.parametrize(
    ("header", "query"),
    [('OAuth oauth_nonce="a", oauth_nonce="b"', ""), (None, "oauth_nonce=a&oauth_nonce=a")],
)
def test_a_repeated_protocol_parameter_is_refused(header: str | None, query: str) -> None:
    with pytest.raises(InvalidOAuthRequest, match="oauth_nonce appears more than once"):
        collect_parameters(header, query, b"", None)


def test_no_protocol_parameters_is_refused() -> None:
    with pytest.raises(InvalidOAuthRequest, match="no OAuth protocol parameters"):
        collect_parameters("Bearer token", "a=1", b"", None)


def test_realm_and_signature_are_not_signed() -> None:
    collected = collect_parameters(
        'OAuth realm="r", oauth_signature="sig", oauth_nonce="n"', "", b"", None
    )
    assert collected.signed == (("oauth_nonce", "n"),)
    assert collected.protocol["oauth_signature"] == "sig"
    assert collected.realm == "r"


def test_a_non_form_body_is_not_a_parameter_source() -> None:
    collected = collect_parameters(None, "oauth_nonce=n", b"a=1", "application/json")
    assert collected.signed == (("oauth_nonce", "n"),)


def test_a_non_ascii_form_body_is_refused() -> None:
    with pytest.raises(InvalidOAuthRequest, match="ASCII"):
        collect_parameters(None, "oauth_nonce=n", "a=é".encode(), FORM)


_header_text = st.text(
    alphabet=st.sampled_from('OAuth oauth_nonce=",% \t\r\nrealm%C3%A9+xyzé\x00'), max_size=80
)


@given(tail=_header_text | st.text(max_size=80))
def test_random_headers_only_ever_raise_our_errors(tail: str) -> None:
    for header in (tail, "OAuth " + tail):
        try:
            pairs = parse_authorization_header(header)
        except InvalidOAuthRequest:
            continue  # the one error allowed out; any other exception fails the test
        assert all(isinstance(n, str) and isinstance(v, str) for n, v in pairs)


@given(query=st.text(max_size=60), body=st.binary(max_size=60), header=_header_text)
def test_random_requests_only_ever_raise_our_errors(query: str, body: bytes, header: str) -> None:
    try:
        collected = collect_parameters("OAuth " + header, query, body, FORM)
    except InvalidOAuthRequest:
        return  # the one error allowed out; any other exception fails the test
    assert collected.protocol
