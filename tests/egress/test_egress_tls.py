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
from tests.egress.upstreams import H2Upstream, Upstream

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


@pytest_asyncio.fixture
async def tls_http1(tmp_path: Path) -> AsyncIterator[tuple[Upstream, ssl.SSLContext]]:
    """An HTTP/1.1 upstream over TLS whose server would choose h2 if the client offered it."""
    server_context, client_context = make_tls_contexts(tmp_path, NAME)
    server_context.set_alpn_protocols(["h2", "http/1.1"])
    server = await Upstream(tls=server_context).start()
    yield server, client_context
    await server.close()


async def test_without_http2_https_is_http1_with_sni_and_alpn_for_it_only(
    tls_http1: tuple[Upstream, ssl.SSLContext], resolver: TableResolver, fast_http1: bool
) -> None:
    server, context = tls_http1
    policy = AddressPolicy.from_entries(["127.0.0.1"])
    async with EgressClient(
        policy, resolver=resolver, ssl_context=context, http2=False, fast_http1=fast_http1
    ) as client:
        for path in ("/a", "/b"):
            response = await client.send(UpstreamRequest("GET", server.url(path, NAME)), LIMITS)
            assert response.status == 200
            assert response.http_version == "HTTP/1.1"
    assert [r.target for r in server.received] == ["/a", "/b"]
    assert server.connections == 1  # kept alive over TLS
    assert server.sni_names == [NAME]
    assert server.alpn_chosen == ["http/1.1"]  # h2 was never offered
    assert resolver.calls == [NAME]


async def test_without_http2_the_certificate_is_checked_against_the_name(
    tls_http1: tuple[Upstream, ssl.SSLContext], resolver: TableResolver, fast_http1: bool
) -> None:
    server, context = tls_http1
    policy = AddressPolicy.from_entries(["127.0.0.1"])
    async with EgressClient(
        policy, resolver=resolver, ssl_context=context, http2=False, fast_http1=fast_http1
    ) as client:
        with pytest.raises(UpstreamUnreachable, match=r"other\.test"):
            await client.send(UpstreamRequest("GET", server.url("/", "other.test")), LIMITS)
        with pytest.raises(UpstreamUnreachable, match=r"127\.0\.0\.1"):
            await client.send(UpstreamRequest("GET", server.url("/")), LIMITS)
    assert server.received == []


async def test_without_http2_the_default_trust_store_refuses_a_private_authority(
    tls_http1: tuple[Upstream, ssl.SSLContext], resolver: TableResolver, fast_http1: bool
) -> None:
    server, _ = tls_http1
    policy = AddressPolicy.from_entries(["127.0.0.1"])
    async with EgressClient(
        policy, resolver=resolver, http2=False, fast_http1=fast_http1
    ) as client:
        with pytest.raises(UpstreamUnreachable, match="CERTIFICATE_VERIFY_FAILED"):
            await client.send(UpstreamRequest("GET", server.url("/", NAME)), LIMITS)
    assert server.received == []


async def test_with_http2_an_http1_only_server_is_still_reached_over_https(
    tls_http1: tuple[Upstream, ssl.SSLContext], resolver: TableResolver
) -> None:
    server, context = tls_http1
    server_only_http1 = ["http/1.1"]
    assert server.tls is not None
    server.tls.set_alpn_protocols(server_only_http1)
    policy = AddressPolicy.from_entries(["127.0.0.1"])
    async with EgressClient(policy, resolver=resolver, ssl_context=context) as client:
        response = await client.send(UpstreamRequest("GET", server.url("/", NAME)), LIMITS)
    assert response.http_version == "HTTP/1.1"
    assert server.sni_names == [NAME]
