"""End to end: HTTP/1.1 framing, malformed responses, keep-alive and the one retry.

Framing and malformed responses run on both transports (the ``client`` fixture); pipelining
and the retry of a request whose kept-alive connection was closed are the fast path's own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from authgate.egress import AddressPolicy, EgressClient
from authgate.egress.errors import MalformedUpstreamResponse, UpstreamUnreachable
from authgate.functions.ports import UpstreamLimits, UpstreamRequest
from tests.egress.conftest import TableResolver
from tests.egress.upstreams import RawUpstream, Received, Reply, Script, Upstream

LIMITS = UpstreamLimits(max_bytes=64 * 1024, timeout=5)
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@pytest_asyncio.fixture
async def fast_client(resolver: TableResolver) -> AsyncIterator[EgressClient]:
    """A client on the fast path (the default for http://)."""
    async with EgressClient(AddressPolicy.from_entries(["127.0.0.1"]), resolver=resolver) as c:
        yield c


async def _raw(script: Script) -> RawUpstream:
    return await RawUpstream(script).start()


def _serving(first: bytes, rest: bytes = OK, *, per_connection: int = 1000) -> RawUpstream:
    """A raw upstream answering ``GET /a`` (or any method) with ``first``, others with ``rest``.

    Each connection serves at most ``per_connection`` requests, then is closed.
    """

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        for _ in range(per_connection):
            head = await server.head(reader, n)
            if not head:
                return
            writer.write(first if head.split(b" ")[1] == b"/a" else rest)
            await writer.drain()

    server = RawUpstream(script)
    return server


async def test_a_chunked_body_is_joined_and_the_connection_reused(
    client: EgressClient, upstream: Upstream
) -> None:
    async def chunked(request: Received, reply: Reply) -> None:
        await reply.start(200, [("transfer-encoding", "chunked")])
        for piece in (b"one,", b"two,", b"", b"three"):
            if piece:
                await reply.data(piece)
        await reply.end()

    upstream.routes["/chunked"] = chunked
    first = await client.send(UpstreamRequest("GET", upstream.url("/chunked")), LIMITS)
    second = await client.send(UpstreamRequest("GET", upstream.url("/chunked")), LIMITS)
    assert first.body == second.body == b"one,two,three"
    assert first.header("transfer-encoding") == "chunked"
    assert upstream.connections == 1


async def test_a_large_body_arrives_whole_through_paused_reading(
    client: EgressClient, upstream: Upstream
) -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB, four times the read high-water mark

    async def large(request: Received, reply: Reply) -> None:
        await reply.send(200, [], payload)

    upstream.routes["/large"] = large
    limits = UpstreamLimits(max_bytes=len(payload), timeout=5)
    response = await client.send(UpstreamRequest("GET", upstream.url("/large")), limits)
    again = await client.send(UpstreamRequest("GET", upstream.url("/large")), limits)
    assert response.body == again.body == payload
    assert upstream.connections == 1


@pytest.mark.parametrize(
    ("response", "body"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", b"until the end"),
        (b"HTTP/1.0 200 OK\r\n\r\nold style", b"old style"),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", b"ok"),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", b"ok"),
    ],
)
async def test_a_body_until_close_or_a_closing_response_is_read_and_not_reused(
    client: EgressClient, response: bytes, body: bytes
) -> None:
    server = await _serving(response, response, per_connection=1).start()
    try:
        first = await client.send(UpstreamRequest("GET", server.url("/a")), LIMITS)
        second = await client.send(UpstreamRequest("GET", server.url("/b")), LIMITS)
    finally:
        await server.close()
    assert first.body == second.body == body
    assert [number for number, _ in server.heads] == [1, 2]


@pytest.mark.parametrize(
    ("method", "response", "status", "headers"),
    [
        ("GET", b"HTTP/1.1 204 No Content\r\n\r\n", 204, {}),
        ("GET", b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n', 304, {"etag": '"v1"'}),
        (
            "GET",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK,
            200,
            {"content-length": "2"},
        ),
    ],
)
async def test_bodyless_and_interim_responses_keep_the_connection(
    client: EgressClient,
    fast_http1: bool,
    method: str,
    response: bytes,
    status: int,
    headers: dict[str, str],
) -> None:
    server = await _serving(response).start()
    try:
        first = await client.send(UpstreamRequest(method, server.url("/a")), LIMITS)
        second = await client.send(UpstreamRequest("GET", server.url("/b")), LIMITS)
    finally:
        await server.close()
    assert first.status == status
    assert first.body == (b"ok" if status == 200 else b"")
    assert all(first.header(name) == value for name, value in headers.items())
    assert first.header("link") is None  # an interim response's fields are not kept
    assert second.body == b"ok"
    if fast_http1:
        assert [number for number, _ in server.heads] == [1, 1]


async def test_a_head_response_has_no_body_whatever_its_length_says(
    client: EgressClient,
) -> None:
    server = await _serving(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n").start()
    try:
        response = await client.send(UpstreamRequest("HEAD", server.url("/a")), LIMITS)
        after = await client.send(UpstreamRequest("GET", server.url("/b")), LIMITS)
    finally:
        await server.close()
    assert (response.status, response.body) == (200, b"")
    assert response.header("content-length") == "5000"
    assert after.body == b"ok"
    assert server.heads[0][1].startswith(b"HEAD /a HTTP/1.1\r\n")


@pytest.mark.parametrize(
    "response",
    [
        b"garbage\r\n\r\n",
        b"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Value: a\x00b\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200_000 + b"\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X-Many: a\r\n" * 20_000 + b"Content-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        b"HTTP/1.1 200 OK\r\nContent-Len",
    ],
)
async def test_a_malformed_response_is_refused(client: EgressClient, response: bytes) -> None:
    server = await _serving(response, per_connection=1).start()
    try:
        with pytest.raises(MalformedUpstreamResponse, match="not valid HTTP") as caught:
            await client.send(UpstreamRequest("GET", server.url("/a")), LIMITS)
    finally:
        await server.close()
    assert caught.value.status == 502
    assert "127.0.0.1" in caught.value.message


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\n\r\n",
            "switched protocols",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"2\r\nok\r\n0\r\n\r\n",
            "framing",
        ),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc", "closed before"),
    ],
)
async def test_the_fast_path_refuses_what_it_cannot_frame_safely(
    fast_client: EgressClient, response: bytes, reason: str
) -> None:
    # httpcore (h11) reads a body with both a length and chunking by its chunks; the fast
    # path refuses it, as a response that could be framed two ways.
    server = await _serving(response, per_connection=1).start()
    try:
        with pytest.raises(MalformedUpstreamResponse, match=reason):
            await fast_client.send(UpstreamRequest("GET", server.url("/a")), LIMITS)
    finally:
        await server.close()


async def test_bytes_after_a_response_make_its_connection_unusable(
    fast_client: EgressClient,
) -> None:
    server = await _serving(OK + b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra").start()
    try:
        first = await fast_client.send(UpstreamRequest("GET", server.url("/a")), LIMITS)
        second = await fast_client.send(UpstreamRequest("GET", server.url("/b")), LIMITS)
    finally:
        await server.close()
    assert first.body == second.body == b"ok"
    assert [number for number, _ in server.heads] == [1, 2]


async def test_requests_are_never_pipelined(fast_client: EgressClient) -> None:
    arrived = asyncio.Event()
    release = asyncio.Event()

    async def gated(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while await server.head(reader, n):
            if len(server.heads) == 3:
                arrived.set()
            await release.wait()
            writer.write(OK)
            await writer.drain()

    server = await RawUpstream(gated).start()
    try:
        sends = [
            asyncio.ensure_future(
                fast_client.send(UpstreamRequest("GET", server.url(f"/{n}")), LIMITS)
            )
            for n in range(3)
        ]
        await arrived.wait()
        in_flight = sorted(number for number, _ in server.heads)
        release.set()
        responses = await asyncio.gather(*sends)
        after = await fast_client.send(UpstreamRequest("GET", server.url("/after")), LIMITS)
    finally:
        await server.close()
    assert in_flight == [1, 2, 3]  # three requests in flight, each on its own connection
    assert [response.body for response in responses] == [b"ok"] * 3
    assert after.body == b"ok"
    assert server.connections == 3  # the fourth reused one of them


def _closing_kept_connection(*, later_connections_answer: bool) -> RawUpstream:
    """Connection 1 answers its first request, reads the second and hangs up unanswered.

    Later connections answer every request, or hang up on their first one unanswered.
    """

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        if n == 1:
            if await server.head(reader, n):
                writer.write(OK)
                await writer.drain()
                await server.head(reader, n)
            return
        while await server.head(reader, n):
            if not later_connections_answer:
                return
            writer.write(OK)
            await writer.drain()

    server = RawUpstream(script)
    return server


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])
async def test_an_idempotent_request_is_retried_once_when_a_kept_connection_was_closed(
    fast_client: EgressClient, method: str
) -> None:
    server = await _closing_kept_connection(later_connections_answer=True).start()
    try:
        await fast_client.send(UpstreamRequest("GET", server.url("/a")), LIMITS)
        response = await fast_client.send(UpstreamRequest(method, server.url("/b")), LIMITS)
    finally:
        await server.close()
    assert response.status == 200
    targets = [(number, head.split(b"\r\n")[0]) for number, head in server.heads]
    line = f"{method} /b HTTP/1.1".encode()
    assert targets == [(1, b"GET /a HTTP/1.1"), (1, line), (2, line)]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_a_request_that_is_not_idempotent_is_not_retried(
    fast_client: EgressClient, method: str
) -> None:
    server = await _closing_kept_connection(later_connections_answer=True).start()
    try:
        await fast_client.send(UpstreamRequest("GET", server.url("/a")), LIMITS)
        with pytest.raises(UpstreamUnreachable, match="closed the connection unanswered"):
            await fast_client.send(UpstreamRequest(method, server.url("/b"), body=b"{}"), LIMITS)
    finally:
        await server.close()
    assert [number for number, _ in server.heads] == [1, 1]
    assert server.connections == 1


async def test_the_retry_happens_once_and_only_after_a_reused_connection(
    fast_client: EgressClient,
) -> None:
    server = await _closing_kept_connection(later_connections_answer=False).start()
    try:
        await fast_client.send(UpstreamRequest("GET", server.url("/a")), LIMITS)
        with pytest.raises(UpstreamUnreachable, match="closed the connection unanswered"):
            await fast_client.send(UpstreamRequest("GET", server.url("/b")), LIMITS)
        with pytest.raises(UpstreamUnreachable, match="closed the connection unanswered"):
            await fast_client.send(UpstreamRequest("GET", server.url("/c")), LIMITS)
    finally:
        await server.close()
    lines = [(number, head.split(b" ")[1]) for number, head in server.heads]
    # /b was retried once, on a new connection; /c, on a new connection, was not retried.
    assert lines == [(1, b"/a"), (1, b"/b"), (2, b"/b"), (3, b"/c")]


async def test_a_connection_answered_partly_then_closed_is_not_retried(
    fast_client: EgressClient,
) -> None:
    partial = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"
    server = await _serving(OK, partial, per_connection=2).start()
    try:
        await fast_client.send(UpstreamRequest("GET", server.url("/a")), LIMITS)
        with pytest.raises(MalformedUpstreamResponse, match="closed before the response"):
            await fast_client.send(UpstreamRequest("GET", server.url("/b")), LIMITS)
    finally:
        await server.close()
    assert server.connections == 1


async def test_both_transports_put_the_same_request_on_the_wire(
    resolver: TableResolver,
) -> None:
    server = await _serving(OK).start()
    policy = AddressPolicy.from_entries(["127.0.0.1"])
    heads: list[bytes] = []
    try:
        for fast in (True, False):
            async with EgressClient(policy, resolver=resolver, fast_http1=fast) as client:
                response = await client.send(UpstreamRequest("GET", server.url("/x")), LIMITS)
                assert response.body == b"ok"
            heads.append(server.heads[-1][1])
    finally:
        await server.close()
    assert heads[0] == heads[1]
    assert heads[0].startswith(b"GET /x HTTP/1.1\r\nHost: 127.0.0.1:")
