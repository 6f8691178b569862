"""End to end over TLS: HTTP/2 by ALPN, and SNI and certificate checks use the host name."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from authgate.config import load_settings
from authgate.egress import AddressPolicy, EgressClient, build_egress_client
from authgate.egress.errors import ForbiddenDestination, UpstreamUnreachable
from authgate.functions.ports import UpstreamLimits, UpstreamRequest
from tests.egress.certificates import make_tls_contexts
from tests.egress.conftest import TableResolver
from tests.egress.upstreams import H2Upstream

LIMITS = UpstreamLimits(max_bytes=64 * 1024, timeout=5)
NAME = "api.test"


@pytest_asyncio.fixture
async def tls(tmp_path: Path) -> AsyncIterator[tuple[H2Upstream, ssl.SSLContext]]:
    server_context, client_context = make_tls_contexts(tmp_path, NAME)
    server = await H2Upstream(server_context).start()
    yield server, client_context
    await server.close()


async def test_http2_by_alpn_with_sni_for_the_name(
    tls: tuple[H2Upstream, ssl.SSLContext], resolver: TableResolver
) -> None:
    server, context = tls
    policy = AddressPolicy.from_entries(["127.0.0.1"])
    async with EgressClient(policy, resolver=resolver, ssl_context=context) as client:
        first = await client.send(UpstreamRequest("GET", f"https://{NAME}:{server.port}/a"), LIMITS)
        second = await client.send(
            UpstreamRequest("GET", f"https://{NAME}:{server.port}/b"), LIMITS
        )
    assert first.http_version == "HTTP/2"
    assert first.status == 200
    assert first.body == f"{NAME}:{server.port} /a".encode()
    assert second.body == f"{NAME}:{server.port} /b".encode()
    assert server.sni_names == [NAME]  # one TLS connection, reused, named api.test
    assert server.connections == 1
    assert resolver.calls == [NAME]


async def test_the_certificate_is_checked_against_the_name(
    tls: tuple[H2Upstream, ssl.SSLContext], resolver: TableResolver
) -> None:
    server, context = tls
    policy = AddressPolicy.from_entries(["127.0.0.1"])
    async with EgressClient(policy, resolver=resolver, ssl_context=context) as client:
        # The certificate names api.test only: reaching the same server as other.test fails.
        with pytest.raises(UpstreamUnreachable, match=r"other\.test"):
            await client.send(UpstreamRequest("GET", f"https://other.test:{server.port}/"), LIMITS)


async def test_the_default_trust_store_refuses_a_private_authority(
    tls: tuple[H2Upstream, ssl.SSLContext], resolver: TableResolver
) -> None:
    server, _ = tls
    policy = AddressPolicy.from_entries(["127.0.0.1"])
    async with EgressClient(policy, resolver=resolver) as client:
        with pytest.raises(UpstreamUnreachable):
            await client.send(UpstreamRequest("GET", f"https://{NAME}:{server.port}/"), LIMITS)


async def test_the_client_built_from_settings_applies_them(
    tls: tuple[H2Upstream, ssl.SSLContext], resolver: TableResolver
) -> None:
    server, context = tls
    open_settings = load_settings(env={"AUTHGATE_EGRESS_ALLOWED_HOSTS": "api.test"})
    closed_settings = load_settings(env={})
    client = build_egress_client(open_settings, resolver=resolver, ssl_context=context)
    closed = build_egress_client(closed_settings, resolver=resolver, ssl_context=context)
    try:
        response = await client.send(
            UpstreamRequest("GET", f"https://{NAME}:{server.port}/"), LIMITS
        )
        with pytest.raises(ForbiddenDestination):
            await closed.send(UpstreamRequest("GET", f"https://{NAME}:{server.port}/"), LIMITS)
    finally:
        await client.aclose()
        await closed.aclose()
    assert response.http_version == "HTTP/2"
