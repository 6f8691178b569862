"""End to end: which destinations the client reaches, refuses, and how it connects."""

from __future__ import annotations

import pytest

from authgate.egress import AddressPolicy, EgressClient
from authgate.egress.errors import (
    ForbiddenDestination,
    HostNotAllowed,
    InvalidUpstreamRequest,
    UpstreamUnreachable,
)
from authgate.functions.errors import UpstreamError
from authgate.functions.ports import UpstreamLimits, UpstreamRequest
from tests.egress.conftest import TableResolver
from tests.egress.upstreams import Upstream

LIMITS = UpstreamLimits(max_bytes=64 * 1024, timeout=5)


async def _refused(client: EgressClient, request: UpstreamRequest) -> UpstreamError:
    with pytest.raises(UpstreamError) as caught:
        await client.send(request, LIMITS)
    return caught.value


async def test_the_allow_list_lets_requests_through(
    client: EgressClient, upstream: Upstream
) -> None:
    response = await client.send(UpstreamRequest("GET", upstream.url("/hello?x=1")), LIMITS)
    assert response.status == 200
    assert response.url == upstream.url("/hello?x=1")
    assert response.http_version == "HTTP/1.1"
    assert response.header("content-type") == "text/plain"
    assert all(name == name.lower() for name, _ in response.headers)
    assert upstream.received[0].target == "/hello?x=1"
    assert upstream.received[0].header("host") == f"127.0.0.1:{upstream.port}"


async def test_without_the_allow_list_loopback_is_refused_before_connecting(
    strict_client: EgressClient, upstream: Upstream
) -> None:
    error = await _refused(strict_client, UpstreamRequest("GET", upstream.url("/")))
    assert isinstance(error, ForbiddenDestination)
    assert error.status == 403
    assert "loopback" in error.message
    assert upstream.connections == 0


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST.",
        "app.localhost",
        "2130706433",
        "0177.0.0.1",
        "0x7f.1",
        "0x7f000001",
        "127.1",
        "127.0.0.1.",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[0:0:0:0:0:0:0:1]",
        "[64:ff9b::7f00:1]",
        "[fe80::1%25lo]",
    ],
)
async def test_other_spellings_of_the_machine_are_refused_even_with_the_allow_list(
    client: EgressClient, upstream: Upstream, host: str
) -> None:
    error = await _refused(client, UpstreamRequest("GET", upstream.url("/", host=host)))
    assert isinstance(error, ForbiddenDestination | InvalidUpstreamRequest)
    assert upstream.connections == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://metadata.test/",
        "http://10.0.0.1/",
        "http://100.64.0.1/",
        "http://0.0.0.0:1/",
        "http://[::]:1/",
        "http://224.0.0.1/",
    ],
)
async def test_internal_destinations_are_refused(client: EgressClient, url: str) -> None:
    error = await _refused(client, UpstreamRequest("GET", url))
    assert isinstance(error, ForbiddenDestination)


async def test_a_name_is_resolved_once_and_the_checked_address_is_dialled(
    client: EgressClient, upstream: Upstream, resolver: TableResolver
) -> None:
    # api.test exists only in the table: a second resolution through DNS would fail.
    response = await client.send(UpstreamRequest("GET", upstream.url("/", "api.test")), LIMITS)
    assert response.status == 200
    assert resolver.calls == ["api.test"]
    assert upstream.received[0].header("host") == f"api.test:{upstream.port}"


async def test_a_name_with_any_refused_address_is_refused(
    client: EgressClient, upstream: Upstream
) -> None:
    error = await _refused(client, UpstreamRequest("GET", upstream.url("/", "mixed.test")))
    assert isinstance(error, ForbiddenDestination)
    assert "10.0.0.7" in error.message
    assert upstream.connections == 0


async def test_an_unknown_name_is_unreachable(client: EgressClient) -> None:
    error = await _refused(client, UpstreamRequest("GET", "http://nowhere.test/"))
    assert isinstance(error, UpstreamUnreachable)
    assert "nowhere.test" in error.message


async def test_a_refused_connection_is_unreachable(client: EgressClient) -> None:
    upstream = await Upstream().start()
    port = upstream.port
    await upstream.close()
    error = await _refused(client, UpstreamRequest("GET", f"http://127.0.0.1:{port}/"))
    assert isinstance(error, UpstreamUnreachable)
    assert str(port) in error.message


async def test_allow_listed_names_are_trusted_with_their_addresses(
    resolver: TableResolver, upstream: Upstream, fast_http1: bool
) -> None:
    policy = AddressPolicy.from_entries(["api.test"])
    async with EgressClient(policy, resolver=resolver, fast_http1=fast_http1) as client:
        ok = await client.send(UpstreamRequest("GET", upstream.url("/", "api.test")), LIMITS)
        error = await _refused(client, UpstreamRequest("GET", upstream.url("/", "other.test")))
    assert ok.status == 200
    assert isinstance(error, ForbiddenDestination)


async def test_credentials_go_only_to_their_hosts(client: EgressClient, upstream: Upstream) -> None:
    bound = frozenset({"API.test"})
    refused = await _refused(
        client, UpstreamRequest("GET", upstream.url("/"), allowed_hosts=frozenset({"api.test"}))
    )
    assert isinstance(refused, HostNotAllowed)
    assert refused.status == 403
    assert upstream.connections == 0
    response = await client.send(
        UpstreamRequest("GET", upstream.url("/", "API.TEST."), allowed_hosts=bound), LIMITS
    )
    assert response.status == 200


@pytest.mark.parametrize(
    "headers",
    [
        (("X-Api-Key", "k\r\nX-Injected: yes"),),
        (("X-Api-Key\r\nX-Injected", "yes"),),
        (("X-Api-Key", "k\nX-Injected: yes"),),
        (("X-Api-Key", "k\x00"),),
        (("Host", "evil.example"),),
        (("Content-Length", "0"),),
        (("Transfer-Encoding", "chunked"),),
        (("Connection", "close"),),
    ],
)
async def test_header_injection_is_refused_before_connecting(
    client: EgressClient, upstream: Upstream, headers: tuple[tuple[str, str], ...]
) -> None:
    error = await _refused(client, UpstreamRequest("GET", upstream.url("/"), headers=headers))
    assert isinstance(error, InvalidUpstreamRequest)
    assert error.status == 400
    assert upstream.connections == 0


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/", "file:///etc/passwd", "http://u:p@127.0.0.1/", "/relative", ""]
)
async def test_only_absolute_http_urls_are_sent(client: EgressClient, url: str) -> None:
    error = await _refused(client, UpstreamRequest("GET", url))
    assert isinstance(error, InvalidUpstreamRequest)


async def test_connections_are_reused(client: EgressClient, upstream: Upstream) -> None:
    for path in ("/a", "/b", "/c"):
        response = await client.send(UpstreamRequest("GET", upstream.url(path)), LIMITS)
        assert response.status == 200
    assert [r.target for r in upstream.received] == ["/a", "/b", "/c"]
    assert upstream.connections == 1
    assert {r.connection for r in upstream.received} == {1}


async def test_the_source_address_is_the_configured_one(
    resolver: TableResolver, upstream: Upstream, fast_http1: bool
) -> None:
    policy = AddressPolicy.from_entries(["127.0.0.1"])
    async with EgressClient(
        policy, resolver=resolver, local_address="127.0.0.2", fast_http1=fast_http1
    ) as client:
        await client.send(UpstreamRequest("GET", upstream.url("/")), LIMITS)
    assert upstream.received[0].peer == "127.0.0.2"


async def test_the_body_and_method_reach_the_upstream(
    client: EgressClient, upstream: Upstream
) -> None:
    request = UpstreamRequest(
        "post", upstream.url("/"), headers=(("Content-Type", "application/json"),), body=b"{}"
    )
    await client.send(request, LIMITS)
    seen = upstream.received[0]
    assert (seen.method, seen.body) == ("POST", b"{}")
    assert seen.header("content-length") == "2"
    assert seen.header("accept-encoding") == "gzip, deflate"
    assert seen.header("user-agent") == "authgate"


async def test_through_a_proxy_hosts_are_checked_before_they_are_sent(
    resolver: TableResolver, upstream: Upstream, fast_http1: bool
) -> None:
    # The upstream plays the proxy: it answers the absolute-form request itself. With a
    # proxy every request goes through httpcore, whatever the fast path setting.
    async with EgressClient(
        resolver=resolver, proxy=upstream.url(""), fast_http1=fast_http1
    ) as client:
        response = await client.send(UpstreamRequest("GET", "http://public.test/x"), LIMITS)
        refused = await _refused(client, UpstreamRequest("GET", "http://metadata.test/"))
        literal = await _refused(client, UpstreamRequest("GET", "http://10.1.2.3/"))
    assert response.status == 200
    assert [r.target for r in upstream.received] == ["http://public.test/x"]
    assert isinstance(refused, ForbiddenDestination)
    assert isinstance(literal, ForbiddenDestination)
