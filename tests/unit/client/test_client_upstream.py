"""The device's upstream transport keeps the engine's promises across redirects and bounds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from authgate.client.errors import (
    DeviceHostNotAllowed,
    DeviceMalformedResponse,
    DeviceTooManyRedirects,
    DeviceUpstreamTimeout,
    DeviceUpstreamTooLarge,
    DeviceUpstreamUnreachable,
)
from authgate.client.upstream import HttpxUpstream
from authgate.functions.ports import UpstreamLimits, UpstreamRequest
from tests.egress.upstreams import Received, Reply, Upstream, echo, redirect_to

LIMITS = UpstreamLimits(max_bytes=1024, timeout=5.0, max_redirects=2)
SECRET = "canary-device-bearer-3f9a"


@pytest_asyncio.fixture
async def upstream() -> AsyncIterator[Upstream]:
    server = await Upstream().start()
    yield server
    await server.close()


@pytest_asyncio.fixture
async def device() -> AsyncIterator[HttpxUpstream]:
    async with httpx.AsyncClient(follow_redirects=False) as http:
        yield HttpxUpstream(http)


def request(url: str, allowed: frozenset[str] | None = None, **kw: object) -> UpstreamRequest:
    return UpstreamRequest(
        "GET",
        url,
        headers=(("authorization", f"Bearer {SECRET}"), ("x-api-key", SECRET)),
        sensitive_headers=frozenset({"x-api-key"}),
        allowed_hosts=allowed,
        **kw,  # type: ignore[arg-type]
    )


async def test_a_same_origin_redirect_keeps_credentials(
    upstream: Upstream, device: HttpxUpstream
) -> None:
    upstream.routes["/start"] = redirect_to("/echo", 307)
    upstream.routes["/echo"] = echo
    answer = await device.send(request(upstream.url("/start")), LIMITS)
    assert answer.status == 200
    assert f"authorization: Bearer {SECRET}" in answer.body.decode()
    assert answer.url == upstream.url("/echo")


async def test_a_cross_origin_redirect_drops_every_credential(
    upstream: Upstream, device: HttpxUpstream
) -> None:
    other = await Upstream().start()
    try:
        other.routes["/echo"] = echo
        upstream.routes["/start"] = redirect_to(other.url("/echo"))
        answer = await device.send(request(upstream.url("/start")), LIMITS)
        assert answer.status == 200
        assert SECRET not in answer.body.decode()
        assert [r.header("authorization") for r in other.received] == [None]
    finally:
        await other.close()


async def test_a_redirect_to_a_host_the_credential_is_not_bound_to_is_refused(
    upstream: Upstream, device: HttpxUpstream
) -> None:
    upstream.routes["/start"] = redirect_to(upstream.url("/echo", host="localhost"))
    with pytest.raises(DeviceHostNotAllowed):
        await device.send(request(upstream.url("/start"), frozenset({"127.0.0.1"})), LIMITS)
    assert [r.target for r in upstream.received] == ["/start"]


@pytest.mark.parametrize("location", ["file:///etc/passwd", "javascript:alert(1)", "ftp://x/"])
async def test_redirects_go_to_http_only(
    upstream: Upstream, device: HttpxUpstream, location: str
) -> None:
    upstream.routes["/start"] = redirect_to(location)
    with pytest.raises((DeviceHostNotAllowed, DeviceMalformedResponse)):
        await device.send(request(upstream.url("/start")), LIMITS)


async def test_bounds_on_redirects_bytes_and_time(
    upstream: Upstream, device: HttpxUpstream
) -> None:
    upstream.routes["/loop"] = redirect_to("/loop")

    async def large(_: Received, reply: Reply) -> None:
        await reply.send(200, [("content-type", "text/plain")], b"x" * 4096)

    async def silent(_: Received, reply: Reply) -> None:
        await upstream.closing.wait()

    upstream.routes["/large"] = large
    upstream.routes["/silent"] = silent
    with pytest.raises(DeviceTooManyRedirects):
        await device.send(request(upstream.url("/loop")), LIMITS)
    with pytest.raises(DeviceUpstreamTooLarge):
        await device.send(request(upstream.url("/large")), LIMITS)
    with pytest.raises(DeviceUpstreamTimeout):
        await device.send(
            request(upstream.url("/silent")),
            UpstreamLimits(max_bytes=1024, timeout=0.3, max_redirects=0),
        )


async def test_an_unreachable_upstream_is_named_without_the_request(
    device: HttpxUpstream,
) -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(DeviceUpstreamUnreachable) as failed:
        await device.send(request(f"http://127.0.0.1:{port}/x"), LIMITS)
    assert SECRET not in failed.value.message
