"""``Authorization: Bearer`` parsing (RFC 6750 §2.1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authgate.errors import InvalidToken, Unauthenticated
from authgate.http.deps import parse_bearer


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer abc", "abc"),
        ("BEARER abc", "abc"),
        ("Bearer   abc  ", "abc"),
        ("Bearer a-b_c~d+e/f=", "a-b_c~d+e/f="),
    ],
)
def test_the_token_is_extracted(header: str, token: str) -> None:
    assert parse_bearer(header) == token


@pytest.mark.parametrize("header", [None, ""])
def test_a_missing_header_is_unauthenticated(header: str | None) -> None:
    with pytest.raises(Unauthenticated) as caught:
        parse_bearer(header)
    assert caught.value.status == 401
    assert "Bearer" in caught.value.message
    assert not isinstance(caught.value, InvalidToken)


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer    ",
        "Basic abc",
        "Token abc",
        "Bearerabc",
        "Bearer a b",
        "Bearer abc def",
        " Bearer abc",
        "Bearer\tabc",
        "MAC id=x",
    ],
)
def test_malformed_headers_are_invalid_token(header: str) -> None:
    with pytest.raises(InvalidToken) as caught:
        parse_bearer(header)
    assert caught.value.code == "invalid_token"
    assert caught.value.status == 401


@given(header=st.none() | st.text(max_size=200))
def test_arbitrary_headers_fail_only_with_unauthenticated(header: str | None) -> None:
    try:
        token = parse_bearer(header)
    except Unauthenticated:
        return
    assert token
    assert " " not in token
    assert token == token.strip()
    assert header is not None
    assert header.lower().startswith("bearer ")


@given(token=st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1))
def test_any_visible_ascii_token_round_trips(token: str) -> None:
    assert parse_bearer(f"Bearer {token}") == token
