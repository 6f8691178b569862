"""End to end: redirects are followed by hand, re-checked, and strip credentials."""

from __future__ import annotations

import pytest

from authgate.egress import EgressClient
from authgate.egress.errors import ForbiddenDestination, HostNotAllowed, TooManyRedirects
from authgate.functions.ports import UpstreamLimits, UpstreamRequest
from tests.egress.upstreams import Upstream, redirect_to

LIMITS = UpstreamLimits(max_bytes=64 * 1024, timeout=5, max_redirects=5)
CREDENTIALS = (
    ("X-Api-Key", "key-7f3a"),
    ("Authorization", "Bearer token-7f3a"),
    ("Cookie", "session=7f3a"),
    ("Accept", "application/json"),
)


def _request(url: str, **kwargs: object) -> UpstreamRequest:
    return UpstreamRequest(
        "GET",
        url,
        headers=CREDENTIALS,
        sensitive_headers=frozenset({"x-api-key"}),
        **kwargs,  # type: ignore[arg-type]
    )


async def test_a_cross_origin_redirect_drops_the_credentials(
    client: EgressClient, upstream: Upstream, other_upstream: Upstream
) -> None:
    upstream.routes["/start"] = redirect_to(other_upstream.url("/echo"))
    response = await client.send(_request(upstream.url("/start")), LIMITS)
    assert response.status == 200
    assert response.url == other_upstream.url("/echo")
    seen = other_upstream.received[0]
    assert seen.header("x-api-key") is None
    assert seen.header("authorization") is None
    assert seen.header("cookie") is None
    assert seen.header("accept") == "application/json"
    assert upstream.received[0].header("x-api-key") == "key-7f3a"


async def test_a_same_origin_redirect_keeps_them(client: EgressClient, upstream: Upstream) -> None:
    upstream.routes["/start"] = redirect_to("/echo?page=2", status=301)
    response = await client.send(_request(upstream.url("/start")), LIMITS)
    assert response.url == upstream.url("/echo?page=2")
    assert upstream.received[1].header("x-api-key") == "key-7f3a"
    assert upstream.received[1].header("authorization") == "Bearer token-7f3a"
    assert upstream.connections == 1  # the redirect's connection was reused


async def test_a_redirect_to_another_host_name_is_cross_origin(
    client: EgressClient, upstream: Upstream
) -> None:
    upstream.routes["/start"] = redirect_to(upstream.url("/echo", host="api.test"), status=307)
    await client.send(_request(upstream.url("/start")), LIMITS)
    assert upstream.received[1].header("x-api-key") is None


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://localhost:{port}/echo",
        "http://0x7f.1:{port}/echo",
        "http://2130706433:{port}/echo",
        "http://[::1]:{port}/echo",
        "http://mixed.test:{port}/echo",
        "http://10.0.0.1/",
        "file:///etc/passwd",
    ],
)
async def test_a_redirect_to_a_forbidden_address_is_refused(
    client: EgressClient, upstream: Upstream, location: str
) -> None:
    upstream.routes["/start"] = redirect_to(location.format(port=upstream.port))
    with pytest.raises(ForbiddenDestination):
        await client.send(_request(upstream.url("/start")), LIMITS)
    assert [r.target for r in upstream.received] == ["/start"]


async def test_a_redirect_off_the_credential_hosts_is_refused(
    client: EgressClient, upstream: Upstream, other_upstream: Upstream
) -> None:
    upstream.routes["/start"] = redirect_to(other_upstream.url("/echo", host="other.test"))
    request = _request(
        upstream.url("/start", host="api.test"), allowed_hosts=frozenset({"api.test"})
    )
    with pytest.raises(HostNotAllowed, match=r"redirect to other\.test"):
        await client.send(request, LIMITS)
    assert other_upstream.connections == 0


async def test_a_redirect_loop_stops_at_the_hop_limit(
    client: EgressClient, upstream: Upstream
) -> None:
    upstream.routes["/loop"] = redirect_to("/loop")
    with pytest.raises(TooManyRedirects) as caught:
        await client.send(_request(upstream.url("/loop")), UpstreamLimits(1024, 5, max_redirects=3))
    assert caught.value.status == 502
    assert len(upstream.received) == 4


async def test_see_other_turns_a_post_into_a_get_without_body(
    client: EgressClient, upstream: Upstream
) -> None:
    upstream.routes["/form"] = redirect_to("/echo", status=303)
    request = UpstreamRequest(
        "POST", upstream.url("/form"), headers=(("Content-Type", "text/plain"),), body=b"data"
    )
    await client.send(request, LIMITS)
    follow = upstream.received[1]
    assert (follow.method, follow.body, follow.header("content-type")) == ("GET", b"", None)


async def test_a_temporary_redirect_repeats_the_post(
    client: EgressClient, upstream: Upstream
) -> None:
    upstream.routes["/form"] = redirect_to("/echo", status=307)
    await client.send(UpstreamRequest("POST", upstream.url("/form"), body=b"data"), LIMITS)
    assert (upstream.received[1].method, upstream.received[1].body) == ("POST", b"data")
