"""Fixtures for the egress tests: real upstreams on 127.0.0.1 and clients to reach them.

Every client fixture runs each test twice, once per transport: ``fast`` (the client's own
HTTP/1.1 path, the default for ``http://``) and ``httpcore`` (``fast_http1=False``).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from ipaddress import ip_address

import pytest
import pytest_asyncio

from authgate.egress import AddressPolicy, EgressClient
from authgate.egress.addresses import IPAddress
from tests.egress.upstreams import Upstream


class TableResolver:
    """A resolver answering from a table (no DNS server runs in tests); records each call."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.calls.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ip_address(address) for address in self.table[host]]


@pytest_asyncio.fixture
async def upstream() -> AsyncIterator[Upstream]:
    server = await Upstream().start()
    yield server
    await server.close()


@pytest_asyncio.fixture
async def other_upstream() -> AsyncIterator[Upstream]:
    server = await Upstream().start()
    yield server
    await server.close()


@pytest_asyncio.fixture
async def resolver() -> TableResolver:
    return TableResolver(
        {
            "api.test": ["127.0.0.1"],
            "other.test": ["127.0.0.1"],
            "public.test": ["8.8.8.8"],
            "mixed.test": ["127.0.0.1", "10.0.0.7"],
            "metadata.test": ["169.254.169.254"],
        }
    )


@pytest.fixture(params=["fast", "httpcore"])
def fast_http1(request: pytest.FixtureRequest) -> bool:
    """Whether the client uses its fast HTTP/1.1 path, for tests that build their own."""
    return bool(request.param == "fast")


@pytest_asyncio.fixture
async def client(resolver: TableResolver, fast_http1: bool) -> AsyncIterator[EgressClient]:
    """A client whose allow-list names 127.0.0.1, as a deployment's would name internal hosts."""
    policy = AddressPolicy.from_entries(["127.0.0.1"])
    async with EgressClient(policy, resolver=resolver, fast_http1=fast_http1) as c:
        yield c


@pytest_asyncio.fixture
async def strict_client(resolver: TableResolver, fast_http1: bool) -> AsyncIterator[EgressClient]:
    """A client without an allow-list."""
    async with EgressClient(resolver=resolver, fast_http1=fast_http1) as c:
        yield c
