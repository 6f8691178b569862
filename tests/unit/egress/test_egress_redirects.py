"""Redirect hops: method rewriting, origin changes and what they strip."""

from __future__ import annotations

import httpx
import pytest

from authgate.egress.errors import ForbiddenDestination, MalformedUpstreamResponse
from authgate.egress.redirects import Hop, next_hop

HEADERS = [
    (b"X-Api-Key", b"k"),
    (b"Authorization", b"Bearer t"),
    (b"Cookie", b"c=1"),
    (b"Content-Type", b"application/json"),
    (b"Accept", b"*/*"),
]


def _hop(method: str = "POST", url: str = "https://api.example.com/v1/items") -> Hop:
    return Hop(method=method, url=httpx.URL(url), headers=list(HEADERS), body=b"{}")


def _names(hop: Hop) -> set[str]:
    return {name.decode().lower() for name, _ in hop.headers}


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        (b"/v2/items", "https://api.example.com/v2/items"),
        (b"../other", "https://api.example.com/other"),
        (b"?page=2", "https://api.example.com/v1/items?page=2"),
        (b"//cdn.example.com/x", "https://cdn.example.com/x"),
        (b"https://api.example.com/x#frag", "https://api.example.com/x"),
    ],
)
def test_location_resolves_against_the_current_url(location: bytes, expected: str) -> None:
    assert str(next_hop(_hop(), 307, location, frozenset()).url) == expected


@pytest.mark.parametrize(
    ("status", "method", "new_method", "keeps_body"),
    [
        (301, "POST", "GET", False),
        (302, "POST", "GET", False),
        (303, "POST", "GET", False),
        (303, "PUT", "GET", False),
        (303, "HEAD", "HEAD", True),
        (301, "PUT", "PUT", True),
        (307, "POST", "POST", True),
        (308, "PATCH", "PATCH", True),
    ],
)
def test_method_rewriting(status: int, method: str, new_method: str, keeps_body: bool) -> None:
    following = next_hop(_hop(method), status, b"/next", frozenset())
    assert following.method == new_method
    assert (following.body == b"{}") is keeps_body
    assert ("content-type" in _names(following)) is keeps_body


def test_same_origin_keeps_credentials() -> None:
    following = next_hop(_hop(), 307, b"https://API.example.com:443/x", frozenset({"x-api-key"}))
    assert {"x-api-key", "authorization", "cookie"} <= _names(following)


@pytest.mark.parametrize(
    "location",
    [
        b"https://evil.example/x",
        b"http://api.example.com/v1/items",
        b"https://api.example.com:8443/v1/items",
        b"https://sub.api.example.com/",
    ],
)
def test_leaving_the_origin_drops_sensitive_headers(location: bytes) -> None:
    following = next_hop(_hop(), 307, location, frozenset({"x-api-key"}))
    names = _names(following)
    assert not names & {"x-api-key", "authorization", "cookie"}
    assert "accept" in names


def test_dropped_headers_stay_dropped_on_the_way_back() -> None:
    away = next_hop(_hop(), 307, b"https://evil.example/x", frozenset({"x-api-key"}))
    back = next_hop(away, 307, b"https://api.example.com/v1/items", frozenset({"x-api-key"}))
    assert "x-api-key" not in _names(back)


@pytest.mark.parametrize("location", [b"file:///etc/passwd", b"gopher://x/", b"ftp://x/"])
def test_only_http_targets_are_followed(location: bytes) -> None:
    with pytest.raises(ForbiddenDestination, match="only http and https"):
        next_hop(_hop(), 302, location, frozenset())


@pytest.mark.parametrize("location", [b"https://user:pw@x.example/", b"http://[::1/"])
def test_malformed_locations_are_refused(location: bytes) -> None:
    with pytest.raises(MalformedUpstreamResponse) as caught:
        next_hop(_hop(), 302, location, frozenset())
    assert "pw" not in caught.value.message
