"""End to end: size and time bounds end in clean errors, within the bound."""

from __future__ import annotations

import asyncio
import gzip
import time
import zlib

import pytest

from authgate.egress import EgressClient
from authgate.egress.errors import MalformedUpstreamResponse, UpstreamTimeout, UpstreamTooLarge
from authgate.functions.ports import UpstreamLimits, UpstreamRequest
from tests.egress.upstreams import Received, Reply, Upstream, redirect_to

MAX_BYTES = 16 * 1024
TIMEOUT = 0.5
SLACK = 1.5  # scheduling on a busy two-core machine; a hang would take far longer


def _limits(**kwargs: float) -> UpstreamLimits:
    values = {"max_bytes": MAX_BYTES, "timeout": TIMEOUT, **kwargs}
    return UpstreamLimits(max_bytes=int(values["max_bytes"]), timeout=values["timeout"])


def _bomb() -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    return b"".join(compressor.compress(block) for _ in range(64)) + compressor.flush()


async def _trickle(request: Received, reply: Reply) -> None:
    await reply.start(200, [("content-length", "1000")])
    for _ in range(1000):
        await reply.data(b"x")
        await asyncio.sleep(0.02)  # the upstream's own pace, not the test's timing


async def test_a_body_within_the_bound_is_returned(
    client: EgressClient, upstream: Upstream
) -> None:
    async def exact(request: Received, reply: Reply) -> None:
        await reply.send(200, [], b"a" * MAX_BYTES)

    upstream.routes["/exact"] = exact
    response = await client.send(UpstreamRequest("GET", upstream.url("/exact")), _limits())
    assert response.body == b"a" * MAX_BYTES


async def test_a_declared_length_over_the_bound_is_refused_before_reading(
    client: EgressClient, upstream: Upstream
) -> None:
    async def declares(request: Received, reply: Reply) -> None:
        await reply.start(200, [("content-length", str(10**12))])
        await upstream.closing.wait()

    upstream.routes["/big"] = declares
    started = time.monotonic()
    with pytest.raises(UpstreamTooLarge, match="declares 1000000000000 bytes"):
        await client.send(UpstreamRequest("GET", upstream.url("/big")), _limits(timeout=5))
    assert time.monotonic() - started < 5  # not a timeout: refused on the headers


async def test_a_chunked_body_over_the_bound_is_cut_off(
    client: EgressClient, upstream: Upstream
) -> None:
    async def endless(request: Received, reply: Reply) -> None:
        await reply.start(200, [("transfer-encoding", "chunked")])
        for _ in range(1000):
            await reply.data(bytes(4096))
        await reply.end()

    upstream.routes["/endless"] = endless
    with pytest.raises(UpstreamTooLarge) as caught:
        await client.send(UpstreamRequest("GET", upstream.url("/endless")), _limits(timeout=5))
    assert caught.value.status == 502


async def test_a_gzip_bomb_ends_in_too_large(client: EgressClient, upstream: Upstream) -> None:
    bomb = _bomb()

    async def explode(request: Received, reply: Reply) -> None:
        # Chunked: no declared length, so only decoding can find out how large it is.
        await reply.start(200, [("content-encoding", "gzip"), ("transfer-encoding", "chunked")])
        for start in range(0, len(bomb), 8192):
            await reply.data(bomb[start : start + 8192])
        await reply.end()

    upstream.routes["/bomb"] = explode
    started = time.monotonic()
    with pytest.raises(UpstreamTooLarge, match="after decoding"):
        await client.send(UpstreamRequest("GET", upstream.url("/bomb")), _limits(timeout=5))
    assert time.monotonic() - started < 5


async def test_a_compressed_body_is_decoded_and_its_coding_headers_dropped(
    client: EgressClient, upstream: Upstream
) -> None:
    async def compressed(request: Received, reply: Reply) -> None:
        await reply.send(200, [("content-encoding", "gzip")], gzip.compress(b"hello" * 100))

    upstream.routes["/gz"] = compressed
    response = await client.send(UpstreamRequest("GET", upstream.url("/gz")), _limits())
    assert response.body == b"hello" * 100
    assert response.header("content-encoding") is None
    assert response.header("content-length") is None


async def test_an_unrequested_coding_is_malformed(client: EgressClient, upstream: Upstream) -> None:
    async def brotli(request: Received, reply: Reply) -> None:
        await reply.send(200, [("content-encoding", "br")], b"\x0b\x02\x80hello\x03")

    upstream.routes["/br"] = brotli
    with pytest.raises(MalformedUpstreamResponse, match="'br'"):
        await client.send(UpstreamRequest("GET", upstream.url("/br")), _limits())


@pytest.mark.parametrize("path", ["/trickle", "/silent", "/silent-after-redirect"])
async def test_slow_upstreams_end_in_a_timeout_within_the_bound(
    client: EgressClient, upstream: Upstream, path: str
) -> None:
    async def silent(request: Received, reply: Reply) -> None:
        await upstream.closing.wait()

    upstream.routes.update(
        {"/trickle": _trickle, "/silent": silent, "/silent-after-redirect": redirect_to("/silent")}
    )
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as caught:
        await client.send(UpstreamRequest("GET", upstream.url(path)), _limits())
    elapsed = time.monotonic() - started
    assert caught.value.status == 504
    assert TIMEOUT <= elapsed < TIMEOUT + SLACK


async def test_the_client_still_works_after_a_timeout(
    client: EgressClient, upstream: Upstream
) -> None:
    upstream.routes["/trickle"] = _trickle
    with pytest.raises(UpstreamTimeout):
        await client.send(UpstreamRequest("GET", upstream.url("/trickle")), _limits())
    response = await client.send(UpstreamRequest("GET", upstream.url("/ok")), _limits())
    assert response.status == 200


async def test_a_body_shorter_than_declared_is_malformed(
    client: EgressClient, upstream: Upstream
) -> None:
    async def short(request: Received, reply: Reply) -> None:
        await reply.start(200, [("content-length", "10")])
        await reply.data(b"abc")
        raise ConnectionResetError  # the upstream hangs up mid-body

    upstream.routes["/short"] = short
    with pytest.raises(MalformedUpstreamResponse, match="not valid HTTP"):
        await client.send(UpstreamRequest("GET", upstream.url("/short")), _limits())
