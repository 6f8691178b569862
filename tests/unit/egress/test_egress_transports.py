"""Which requests take the fast HTTP/1.1 path, and the request heads it writes."""

from __future__ import annotations

import pytest

from authgate.egress.http1 import request_head
from authgate.egress.transports import takes_fast_path


@pytest.mark.parametrize(
    ("scheme", "http2", "proxied", "enabled", "fast"),
    [
        ("http", True, False, True, True),
        ("http", False, False, True, True),
        ("https", False, False, True, True),
        ("https", True, False, True, False),  # ALPN may choose h2: httpcore
        ("http", True, True, True, False),  # through the outbound proxy: httpcore
        ("https", False, True, True, False),
        ("http", False, False, False, False),  # the fast path turned off
        ("https", False, False, False, False),
    ],
)
def test_the_transport_choice(
    scheme: str, http2: bool, proxied: bool, enabled: bool, fast: bool
) -> None:
    assert takes_fast_path(scheme, http2=http2, proxied=proxied, enabled=enabled) is fast


def test_a_request_head_is_the_request_line_and_fields_in_order() -> None:
    head = request_head("POST", b"/v1/items?q=a%20b", [(b"Host", b"api.test"), (b"X-Key", b"k 1")])
    assert head == (b"POST /v1/items?q=a%20b HTTP/1.1\r\nHost: api.test\r\nX-Key: k 1\r\n\r\n")


def test_an_empty_target_is_the_root() -> None:
    assert request_head("GET", b"", []).startswith(b"GET / HTTP/1.1\r\n")


@pytest.mark.parametrize(
    "target", [b"/a b", b"/a\r\nX-Injected: 1", b"/a\nb", b"/\x00", b"/\x7f", b"/a\tb"]
)
def test_a_target_that_would_split_the_request_line_is_refused(target: bytes) -> None:
    with pytest.raises(ValueError, match="space or control byte"):
        request_head("GET", target, [(b"Host", b"api.test")])
