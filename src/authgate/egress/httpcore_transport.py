"""The ``httpcore`` path: HTTP/2 by ALPN and the outbound proxy (see :mod:`.transports`).

One bounded ``httpcore`` pool whose network backend connects only to checked addresses
(:class:`~authgate.egress.network.GuardedNetworkBackend`); its errors become egress errors.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import httpcore
import httpx

from authgate.egress.errors import (
    InvalidUpstreamRequest,
    MalformedUpstreamResponse,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from authgate.egress.network import DestinationGuard, GuardedNetworkBackend
from authgate.egress.redirects import Hop
from authgate.egress.targets import DEFAULT_PORTS, port_of
from authgate.egress.transports import WireHeaders
from authgate.functions.errors import UpstreamError

_SHOWN_ERROR_LENGTH = 200


def _egress_error(hop: Hop, exc: Exception) -> UpstreamError:
    """The egress error for an ``httpcore`` error while exchanging ``hop``."""
    host = hop.url.host
    if isinstance(exc, httpcore.ConnectError):
        reason = (str(exc) or type(exc).__name__)[:_SHOWN_ERROR_LENGTH]
        return UpstreamUnreachable(f"could not connect to {host} port {port_of(hop.url)}: {reason}")
    if isinstance(exc, httpcore.TimeoutException):
        return UpstreamTimeout(f"the upstream {host} did not answer in time")
    if isinstance(exc, httpcore.NetworkError):
        return UpstreamUnreachable(
            f"the connection to {host} broke off before the response was complete"
        )
    if isinstance(exc, httpcore.ProtocolError):
        return MalformedUpstreamResponse(
            f"the upstream {host} sent a response that is not valid HTTP"
        )
    if isinstance(exc, httpcore.ProxyError):
        return UpstreamUnreachable(f"the outbound proxy would not open a connection to {host}")
    return InvalidUpstreamRequest(f"the URL for {host} is not an http(s) URL")


_HTTPCORE_ERRORS = (
    httpcore.ConnectError,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.ProxyError,
    httpcore.TimeoutException,
    httpcore.UnsupportedProtocol,
)


class HttpcoreResponse:
    """An ``httpcore`` response; errors while reading its body are egress errors too."""

    def __init__(self, hop: Hop, response: httpcore.Response) -> None:
        self._hop = hop
        self._response = response
        self._stream: AsyncIterator[bytes] = response.aiter_stream()
        self.status = response.status
        self.headers: WireHeaders = list(response.headers)
        version = response.extensions.get("http_version", b"HTTP/1.1")
        self.http_version = version.decode("ascii") if isinstance(version, bytes) else "HTTP/1.1"

    async def read_chunk(self) -> bytes:
        """The next body bytes, ``b""`` at the end."""
        try:
            while chunk := await anext(self._stream, None):
                if chunk:
                    return chunk
        except _HTTPCORE_ERRORS as exc:
            raise _egress_error(self._hop, exc) from None
        return b""

    async def aclose(self) -> None:
        """Release the connection (``httpcore`` reuses it only after a complete body)."""
        await self._response.aclose()


class HttpcoreTransport:
    """Sends requests through a guarded ``httpcore`` connection pool."""

    def __init__(
        self,
        guard: DestinationGuard,
        *,
        proxy: str | None = None,
        local_address: str | None = None,
        http2: bool = True,
        max_connections: int = 100,
        max_keepalive_connections: int | None = None,
        keepalive_expiry: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        trusted: frozenset[tuple[str, int]] = frozenset()
        proxy_config: httpcore.Proxy | None = None
        if proxy is not None:
            proxy_config, trusted = _proxy_config(proxy)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            proxy=proxy_config,
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            keepalive_expiry=keepalive_expiry,
            http1=True,
            http2=http2,
            local_address=local_address,
            network_backend=GuardedNetworkBackend(guard, trusted=trusted),
        )

    async def open(self, hop: Hop, headers: WireHeaders) -> HttpcoreResponse:
        """Send ``hop`` and await its response head."""
        url = hop.url
        target = httpcore.URL(
            scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
        )
        request = httpcore.Request(hop.method, target, headers=headers, content=hop.body or b"")
        try:
            response = await self._pool.handle_async_request(request)
        except _HTTPCORE_ERRORS as exc:
            raise _egress_error(hop, exc) from None
        return HttpcoreResponse(hop, response)

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._pool.aclose()


def _proxy_config(proxy: str) -> tuple[httpcore.Proxy, frozenset[tuple[str, int]]]:
    """The pool's proxy setting and the proxy's own address, which is connected to unchecked."""
    try:
        url = httpx.URL(proxy)
    except httpx.InvalidURL:
        raise ValueError(
            "the proxy is not a valid URL such as http://proxy.internal:3128"
        ) from None
    if url.scheme not in DEFAULT_PORTS or not url.host:
        raise ValueError("the proxy must be an http:// or https:// URL with a host")
    port = port_of(url)
    auth = (url.username, url.password) if url.userinfo else None
    target = httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=port, target=b"/")
    return httpcore.Proxy(url=target, auth=auth), frozenset({(url.raw_host.decode("ascii"), port)})
