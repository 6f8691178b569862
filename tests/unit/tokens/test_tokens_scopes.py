"""Scope strings (RFC 6749 §3.3): parsing, canonical form, and narrowing only."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authgate.errors import InvalidScope, OAuthError
from authgate.tokens.scopes import DEFAULT_USER_SCOPE, format_scope, narrow, parse_scope


def test_parse_scope_returns_the_set_of_tokens() -> None:
    assert parse_scope(None) == frozenset()
    assert parse_scope("") == frozenset()
    assert parse_scope("openid") == {"openid"}
    assert parse_scope("  openid   profile openid ") == {"openid", "profile"}
    assert parse_scope("read:files https://api.example.com/x !#$") == {
        "read:files",
        "https://api.example.com/x",
        "!#$",
    }


@pytest.mark.parametrize(
    "raw",
    [
        'say"hi',  # %x22 is not a scope character
        "back\\slash",  # %x5C neither
        "café",
        "emoji🔑",
        "nul\x00byte",
        "bell\x07",
        "del\x7f",
        "openid profile\x1b",
    ],
)
def test_illegal_characters_are_refused(raw: str) -> None:
    with pytest.raises(InvalidScope) as caught:
        parse_scope(raw)
    assert caught.value.code == "invalid_scope"
    assert isinstance(caught.value, OAuthError)


def test_an_over_long_scope_is_refused() -> None:
    parse_scope("a" * 2048)
    with pytest.raises(InvalidScope, match="too long"):
        parse_scope("a" * 2049)


def test_format_scope_is_canonical() -> None:
    assert format_scope({"profile", "openid", "email"}) == "email openid profile"
    assert format_scope(frozenset()) == ""
    assert format_scope(parse_scope(DEFAULT_USER_SCOPE)) == "email offline_access openid profile"


@pytest.mark.parametrize("requested", [None, "", "   "])
def test_narrow_without_a_request_grants_everything(requested: str | None) -> None:
    assert narrow(requested, "profile openid") == "openid profile"


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("openid", "openid"),
        ("profile openid", "openid profile"),
        ("openid openid", "openid"),
        ("openid profile email", "email openid profile"),
    ],
)
def test_narrow_grants_a_subset(requested: str, expected: str) -> None:
    assert narrow(requested, "email openid profile") == expected


@pytest.mark.parametrize(
    "requested",
    [
        "admin",
        "openid admin",
        "OPENID",  # scope tokens are case-sensitive
        "openid:write",
        "openi",
        "openid profile email offline_access",
    ],
)
def test_narrow_refuses_anything_broader(requested: str) -> None:
    with pytest.raises(InvalidScope, match="broader"):
        narrow(requested, "email openid profile")


def test_narrow_refuses_illegal_characters_in_the_request() -> None:
    with pytest.raises(InvalidScope):
        narrow('openid "admin"', "openid")


def test_nothing_can_be_narrowed_out_of_an_empty_grant() -> None:
    assert narrow(None, "") == ""
    with pytest.raises(InvalidScope):
        narrow("openid", "")


scope_token = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='"\\'),
    min_size=1,
    max_size=12,
)


@given(granted=st.sets(scope_token, max_size=8), data=st.data())
def test_narrow_never_grants_more_than_was_granted(granted: set[str], data: st.DataObject) -> None:
    requested = data.draw(st.sets(scope_token, max_size=8))
    try:
        result = narrow(" ".join(requested), " ".join(granted))
    except InvalidScope:
        assert requested
        assert not requested <= granted
        return
    assert parse_scope(result) <= granted
    if requested:
        assert parse_scope(result) == requested


@given(raw=st.text(max_size=300))
def test_parse_scope_fails_only_with_invalid_scope(raw: str) -> None:
    try:
        parsed = parse_scope(raw)
    except InvalidScope:
        return
    assert all(token and token == token.strip() for token in parsed)
