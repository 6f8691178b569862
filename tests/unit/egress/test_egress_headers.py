"""Header hygiene: no injection, no framing headers from callers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authgate.egress.errors import InvalidUpstreamRequest
from authgate.egress.headers import FRAMING_HEADERS, check_headers, check_method, without


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Api-Key", "secret\r\nHost: evil"),
        ("X-Api-Key", "secret\nX-Injected: 1"),
        ("X-Api-Key", "secret\rX"),
        ("X-Api-Key", "a\x00b"),
        ("X-Api-Key", "a\x7fb"),
        ("X-Api-Key", "a\x0bb"),
        ("X-Api\r\nHost", "v"),
        ("X-Api:", "v"),
        ("X Api", "v"),
        ("", "v"),
        (":authority", "evil"),
        ("X-Ünicode", "v"),
    ],
)
def test_injection_is_refused_without_showing_the_value(name: str, value: str) -> None:
    with pytest.raises(InvalidUpstreamRequest) as caught:
        check_headers(((name, value),))
    assert caught.value.status == 400
    assert "secret" not in caught.value.message


@pytest.mark.parametrize("name", [*sorted(FRAMING_HEADERS), "HOST", "Content-Length"])
def test_framing_headers_are_refused(name: str) -> None:
    with pytest.raises(InvalidUpstreamRequest, match="set by the client"):
        check_headers(((name, "x"),))


def test_clean_headers_are_encoded() -> None:
    checked = check_headers((("X-Key", " v\tw "), ("Accept", "application/json"), ("X-U", "é")))
    assert checked == [(b"X-Key", b"v\tw"), (b"Accept", b"application/json"), (b"X-U", b"\xc3\xa9")]


def test_methods() -> None:
    assert check_method("get") == "GET"
    for method in ("CONNECT", "TRACE", "GET /x HTTP/1.1\r\n", ""):
        with pytest.raises(InvalidUpstreamRequest):
            check_method(method)


def test_without_drops_names_in_any_case() -> None:
    headers = [(b"Authorization", b"a"), (b"X-Key", b"b"), (b"Accept", b"c")]
    assert without(headers, frozenset({"authorization", "x-key"})) == [(b"Accept", b"c")]


@given(st.text(max_size=40), st.text(max_size=40))
def test_nothing_with_a_line_break_reaches_the_wire(name: str, value: str) -> None:
    try:
        checked = check_headers(((name, value),))
    except InvalidUpstreamRequest:
        return
    for key, encoded in checked:
        assert not {b"\r", b"\n", b"\x00"} & {bytes([c]) for c in key + encoded}
