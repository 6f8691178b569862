"""End to end: the fast path's connection pool (bounds, idle expiry, dead idle connections)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from authgate.egress import AddressPolicy
from authgate.egress.http1 import Http1Connection
from authgate.egress.http1_pool import Http1Pool
from authgate.egress.http1_transport import Http1Transport
from authgate.egress.network import DestinationGuard
from authgate.egress.redirects import Hop
from tests.egress.conftest import TableResolver
from tests.egress.upstreams import Received, Reply, Upstream

EXPIRY = 30.0


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _pool(resolver: TableResolver, clock: FakeClock, max_connections: int = 100) -> Http1Pool:
    guard = DestinationGuard(AddressPolicy.from_entries(["127.0.0.1"]), resolver)
    return Http1Pool(guard, keepalive_expiry=EXPIRY, clock=clock, max_connections=max_connections)


@pytest_asyncio.fixture
async def pool(resolver: TableResolver, clock: FakeClock) -> AsyncIterator[Http1Pool]:
    pool = _pool(resolver, clock)
    yield pool
    await pool.aclose()


async def _get(pool: Http1Pool, url: str, method: str = "GET") -> bytes:
    hop = Hop(method=method, url=httpx.URL(url), headers=[], body=b"{}")
    headers = [(b"Host", hop.url.netloc), (b"Content-Length", b"2")]
    response = await Http1Transport(pool).open(hop, headers)
    try:
        body = b""
        while chunk := await response.read_chunk():
            body += chunk
        return body
    finally:
        await response.aclose()


async def test_an_idle_connection_is_reused_until_it_expires(
    pool: Http1Pool, clock: FakeClock, upstream: Upstream
) -> None:
    await _get(pool, upstream.url("/a"))
    clock.now += EXPIRY - 1
    await _get(pool, upstream.url("/b"))
    assert upstream.connections == 1
    clock.now += EXPIRY + 1
    await _get(pool, upstream.url("/c"))
    assert upstream.connections == 2
    assert (pool.open_connections, pool.idle_connections) == (1, 1)


async def test_expired_connections_of_origins_no_longer_asked_for_are_closed(
    pool: Http1Pool, clock: FakeClock, upstream: Upstream, other_upstream: Upstream
) -> None:
    await _get(pool, other_upstream.url("/a"))
    clock.now += EXPIRY / 2
    await _get(pool, upstream.url("/b"))
    assert pool.idle_connections == 2
    clock.now += EXPIRY * 3 / 4  # the first expired, the second did not
    await _get(pool, upstream.url("/c"))
    assert pool.idle_for(("http", "127.0.0.1", other_upstream.port)) == ()
    assert (pool.open_connections, pool.idle_connections) == (1, 1)
    assert upstream.connections == 1


async def test_requests_beyond_the_bound_wait_for_a_connection(
    resolver: TableResolver, clock: FakeClock, upstream: Upstream
) -> None:
    release = asyncio.Event()
    arrived = asyncio.Event()
    in_flight: list[int] = []

    async def gated(request: Received, reply: Reply) -> None:
        in_flight.append(request.connection)
        arrived.set()
        await release.wait()
        await reply.send(200, [], b"ok")

    upstream.routes["/gated"] = gated
    pool = _pool(resolver, clock, max_connections=1)
    try:
        first = asyncio.ensure_future(_get(pool, upstream.url("/gated")))
        second = asyncio.ensure_future(_get(pool, upstream.url("/gated")))
        await arrived.wait()  # the first is at the upstream; the second waits for its place
        open_while_waiting = pool.open_connections
        release.set()
        bodies = await asyncio.gather(first, second)
    finally:
        await pool.aclose()
    assert list(bodies) == [b"ok", b"ok"]
    assert open_while_waiting == 1
    assert upstream.connections == 1  # the second request waited and reused the first's
    assert in_flight == [1, 1]


async def test_at_the_bound_an_idle_connection_of_another_origin_makes_room(
    resolver: TableResolver, clock: FakeClock, upstream: Upstream, other_upstream: Upstream
) -> None:
    pool = _pool(resolver, clock, max_connections=1)
    try:
        await _get(pool, upstream.url("/a"))
        await _get(pool, other_upstream.url("/b"))
        await _get(pool, upstream.url("/c"))
    finally:
        await pool.aclose()
    assert (upstream.connections, other_upstream.connections) == (2, 1)
    assert pool.open_connections == 0


async def test_a_cancelled_request_frees_its_place(
    resolver: TableResolver, clock: FakeClock, upstream: Upstream
) -> None:
    arrived = asyncio.Event()

    async def silent(request: Received, reply: Reply) -> None:
        arrived.set()
        await upstream.closing.wait()

    upstream.routes["/silent"] = silent
    pool = _pool(resolver, clock, max_connections=1)
    try:
        stuck = asyncio.ensure_future(_get(pool, upstream.url("/silent")))
        waiting = asyncio.ensure_future(_get(pool, upstream.url("/silent")))
        await arrived.wait()
        waiting.cancel()
        stuck.cancel()
        results = await asyncio.gather(stuck, waiting, return_exceptions=True)
        body = await _get(pool, upstream.url("/after"))
    finally:
        await pool.aclose()
    assert all(isinstance(result, asyncio.CancelledError) for result in results)
    assert body.startswith(b"GET")
    assert upstream.connections == 2  # the cancelled exchange's connection was not reused


async def test_an_idle_connection_the_upstream_closed_is_not_reused(
    pool: Http1Pool, upstream: Upstream
) -> None:
    async def closing(request: Received, reply: Reply) -> None:
        await reply.send(200, [], b"bye")
        raise ConnectionResetError  # the upstream closes the kept-alive connection

    upstream.routes["/closing"] = closing
    key = ("http", "127.0.0.1", upstream.port)
    assert await _get(pool, upstream.url("/closing")) == b"bye"
    (connection,) = pool.idle_for(key)
    await _until_unusable(connection)
    # Not idempotent, so it could not be retried: it must go on a new connection at once.
    body = await _get(pool, upstream.url("/echo"), method="POST")
    assert body.startswith(b"POST")
    assert upstream.connections == 2


async def test_closing_the_pool_closes_idle_connections(
    resolver: TableResolver, clock: FakeClock, upstream: Upstream
) -> None:
    pool = _pool(resolver, clock)
    await _get(pool, upstream.url("/a"))
    assert pool.idle_connections == 1
    await pool.aclose()
    assert (pool.open_connections, pool.idle_connections) == (0, 0)
    with pytest.raises(RuntimeError, match="closed"):
        await _get(pool, upstream.url("/b"))


async def _until_unusable(connection: Http1Connection) -> None:
    """Yield to the event loop until the connection has seen the upstream's close."""
    for _ in range(10_000):
        if not connection.usable:
            return
        await asyncio.sleep(0)
    raise AssertionError("the upstream's close never arrived")


async def test_the_checked_addresses_are_tried_in_order(
    clock: FakeClock, upstream: Upstream
) -> None:
    # Nothing listens on 127.0.0.3 at the upstream's port: the next checked address is used.
    resolver = TableResolver({"two.test": ["127.0.0.3", "127.0.0.1"]})
    guard = DestinationGuard(AddressPolicy.from_entries(["127.0.0.0/8"]), resolver)
    pool = Http1Pool(guard, clock=clock)
    try:
        body = await _get(pool, upstream.url("/", host="two.test"))
    finally:
        await pool.aclose()
    assert body.startswith(b"GET")
    assert upstream.received[0].header("host") == f"two.test:{upstream.port}"
    assert resolver.calls == ["two.test"]
