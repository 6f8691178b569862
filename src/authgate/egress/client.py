"""The SSRF-safe egress client: :class:`EgressClient` implements the engine's ``Upstream``.

One client serves a whole process. For each request it:

1. refuses a bad method, URL or header before anything is sent (:mod:`.headers`,
   :mod:`.targets`) and a host outside the request's ``allowed_hosts``;
2. connects only to addresses the address policy allows, resolving each host once and
   connecting to the address it checked (:mod:`.network`);
3. follows redirects itself, re-checking each hop and dropping credentials when a hop leaves
   the origin (:mod:`.redirects`);
4. reads the body within ``max_bytes`` after decoding (:mod:`.decoding`), all of it within
   ``timeout`` seconds.

Each hop is sent on one of two transports, chosen by :func:`.transports.takes_fast_path`:
the client's own HTTP/1.1 connections (:mod:`.http1_transport`) for ``http://`` and, when
HTTP/2 is off, ``https://``; a bounded ``httpcore`` pool (:mod:`.httpcore_transport`) for
``https://`` with HTTP/2 on and for everything through an outbound proxy.

CPU per request, measured with ``tests/egress/measure_egress_cpu.py`` (keep-alive GETs of a
1 KB JSON body from an upstream process on the other core; median of 5 rounds of 2,000):
100 to 120 µs on the fast path (96 µs at best), against about 370 µs through ``httpcore``,
which is what every request cost before the fast path (a bare ``httpcore`` pool: 290 to
300 µs). The machine was shared, so single runs vary by a fifth.
Of the fast path's 100 µs, about 50 µs are the socket calls and the event loop themselves;
parsing the URL (``httpx``) and the time bound take about 15 µs.

With an outbound proxy, the client connects only to the proxy. Each hop's host is still
checked first (an address directly; a name by resolving it and checking every address), but
the proxy resolves the name again, so DNS rebinding is only prevented when the proxy enforces
its own egress policy.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from types import TracebackType

from authgate.egress.decoding import ACCEPT_ENCODING, BoundedBody
from authgate.egress.errors import (
    HostNotAllowed,
    InvalidUpstreamRequest,
    TooManyRedirects,
    UpstreamTimeout,
    UpstreamTooLarge,
)
from authgate.egress.headers import check_headers, check_method, has_header
from authgate.egress.http1_pool import Http1Pool
from authgate.egress.http1_transport import Http1Transport
from authgate.egress.httpcore_transport import HttpcoreTransport
from authgate.egress.network import DestinationGuard, Resolver
from authgate.egress.network import system_resolver as _system_resolver
from authgate.egress.policy import AddressPolicy
from authgate.egress.redirects import REDIRECT_STATUSES, Hop, next_hop
from authgate.egress.targets import host_of, parse_target, port_of
from authgate.egress.transports import Transport, WireHeaders, WireResponse, takes_fast_path
from authgate.functions.ports import UpstreamLimits, UpstreamRequest, UpstreamResponse

DEFAULT_USER_AGENT = "authgate"
REDIRECT_DRAIN_BYTES = 64 * 1024  # a redirect's body is read this far so the connection is reused
_BODYLESS_STATUSES = frozenset({204, 304})
_METHODS_WITH_CONTENT = frozenset({"POST", "PUT", "PATCH"})
_DIGITS = frozenset("0123456789")
_MAX_LENGTH_DIGITS = 18  # longer declared lengths are too large without parsing them


class EgressClient:
    """Sends upstream requests safely; one per process, closed with :meth:`aclose`.

    ``fast_http1=False`` sends every request through ``httpcore`` (the fast path is on by
    default; see :func:`.transports.takes_fast_path` for which requests take it).
    """

    def __init__(
        self,
        policy: AddressPolicy | None = None,
        *,
        resolver: Resolver = _system_resolver,
        proxy: str | None = None,
        local_address: str | None = None,
        http2: bool = True,
        max_connections: int = 100,
        max_keepalive_connections: int | None = None,
        keepalive_expiry: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        fast_http1: bool = True,
    ) -> None:
        if not user_agent.isprintable() or not user_agent.isascii():
            raise ValueError("the user agent must be printable ASCII")
        self._guard = DestinationGuard(policy or AddressPolicy(), resolver)
        self._proxied = proxy is not None
        self._http2 = http2
        self._fast_enabled = fast_http1
        self._user_agent = user_agent.encode("ascii")
        self._httpcore = HttpcoreTransport(
            self._guard,
            proxy=proxy,
            local_address=local_address,
            http2=http2,
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            keepalive_expiry=keepalive_expiry,
            ssl_context=ssl_context,
        )
        self._fast = Http1Transport(
            Http1Pool(
                self._guard,
                # With HTTP/2 on, https never takes the fast path, and the context's ALPN
                # list belongs to httpcore.
                ssl_context=ssl_context if not http2 else None,
                local_address=local_address,
                max_connections=max_connections,
                max_idle_connections=max_keepalive_connections,
                keepalive_expiry=keepalive_expiry,
            )
        )

    async def aclose(self) -> None:
        """Close every pooled connection; the client is unusable afterwards."""
        await self._fast.aclose()
        await self._httpcore.aclose()

    async def __aenter__(self) -> EgressClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def send(self, request: UpstreamRequest, limits: UpstreamLimits) -> UpstreamResponse:
        """The upstream's response, or an :class:`UpstreamError` naming host and rule."""
        _check_limits(limits)
        hop = Hop(
            method=check_method(request.method),
            url=parse_target(request.url),
            headers=check_headers(request.headers),
            body=request.body,
        )
        sensitive = frozenset(name.lower() for name in request.sensitive_headers)
        allowed = (
            None
            if request.allowed_hosts is None
            else frozenset(host.lower().removesuffix(".") for host in request.allowed_hosts)
        )
        try:
            async with asyncio.timeout(limits.timeout):
                return await self._follow(hop, limits, sensitive, allowed)
        except TimeoutError:
            raise UpstreamTimeout(
                f"the upstream {hop.url.host} did not answer in full within "
                f"{limits.timeout:g} seconds (redirects included); it may be slow or down"
            ) from None

    async def open_stream(self, request: UpstreamRequest, *, time_limit: float) -> UpstreamStream:
        """Send ``request`` once and return the response head; the body is read by the caller.

        Nothing is followed: a redirect is handed back as it came, so that a signed request
        never travels on to a host nobody registered. The body arrives as sent (not
        decoded; ``Accept-Encoding`` is the caller's). ``time_limit`` bounds the wait for the
        head and then each read of the body. Close the stream when done.
        """
        hop = Hop(
            method=check_method(request.method),
            url=parse_target(request.url),
            headers=check_headers(request.headers),
            body=request.body,
        )
        allowed = (
            None
            if request.allowed_hosts is None
            else frozenset(host.lower().removesuffix(".") for host in request.allowed_hosts)
        )
        try:
            async with asyncio.timeout(time_limit):
                await self._check_destination(hop, allowed, redirected=False)
                headers = [(b"Host", hop.url.netloc)]
                if not has_header(hop.headers, b"user-agent"):
                    headers.append((b"User-Agent", self._user_agent))
                headers.extend(hop.headers)
                if hop.body is not None or hop.method in _METHODS_WITH_CONTENT:
                    length = str(len(hop.body or b"")).encode("ascii")
                    headers.append((b"Content-Length", length))
                response = await self._transport_for(hop).open(hop, headers)
        except TimeoutError:
            raise UpstreamTimeout(
                f"the upstream {hop.url.host} did not answer within {time_limit:g} seconds; "
                "it may be slow or down"
            ) from None
        return UpstreamStream(response, hop.url.host, time_limit)

    async def _follow(
        self,
        hop: Hop,
        limits: UpstreamLimits,
        sensitive: frozenset[str],
        allowed: frozenset[str] | None,
    ) -> UpstreamResponse:
        redirects = 0
        while True:
            await self._check_destination(hop, allowed, redirected=redirects > 0)
            outcome = await self._exchange(hop, limits, sensitive, redirects)
            if isinstance(outcome, UpstreamResponse):
                return outcome
            hop = outcome
            redirects += 1

    async def _check_destination(
        self, hop: Hop, allowed: frozenset[str] | None, *, redirected: bool
    ) -> None:
        host = host_of(hop.url)
        if allowed is not None and host not in allowed:
            what = "a redirect to" if redirected else "the request to"
            bound = ", ".join(sorted(allowed))[:200] or "(no host)"
            raise HostNotAllowed(
                f"refusing {what} {host}: the request carries a credential bound to {bound}; "
                "add the host to the credential's allowed hosts if it should receive it"
            )
        if self._proxied:
            await self._guard.addresses(hop.url.host, port_of(hop.url))
        else:
            # An address is refused here even when a pooled connection could carry it; a
            # name is resolved and checked when a connection to it is opened.
            self._guard.policy.check_host(hop.url.host)

    def _transport_for(self, hop: Hop) -> Transport:
        fast = takes_fast_path(
            hop.url.scheme, http2=self._http2, proxied=self._proxied, enabled=self._fast_enabled
        )
        return self._fast if fast else self._httpcore

    async def _exchange(
        self, hop: Hop, limits: UpstreamLimits, sensitive: frozenset[str], redirects: int
    ) -> UpstreamResponse | Hop:
        response = await self._transport_for(hop).open(hop, self._wire_headers(hop))
        try:
            return await self._outcome(hop, response, limits, sensitive, redirects)
        finally:
            await response.aclose()

    def _wire_headers(self, hop: Hop) -> WireHeaders:
        headers = [(b"Host", hop.url.netloc)]
        if not has_header(hop.headers, b"user-agent"):
            headers.append((b"User-Agent", self._user_agent))
        if not has_header(hop.headers, b"accept-encoding"):
            headers.append((b"Accept-Encoding", ACCEPT_ENCODING))
        headers.extend(hop.headers)
        if hop.body is not None or hop.method in _METHODS_WITH_CONTENT:
            headers.append((b"Content-Length", str(len(hop.body or b"")).encode("ascii")))
        return headers

    async def _outcome(
        self,
        hop: Hop,
        response: WireResponse,
        limits: UpstreamLimits,
        sensitive: frozenset[str],
        redirects: int,
    ) -> UpstreamResponse | Hop:
        headers = tuple(
            (name.decode("latin-1").lower(), value.decode("latin-1"))
            for name, value in response.headers
        )
        status = response.status
        if status in REDIRECT_STATUSES:
            location = next(
                (value for name, value in response.headers if name.lower() == b"location"), None
            )
            if location is not None:
                if redirects >= limits.max_redirects:
                    raise TooManyRedirects(
                        f"the upstream {hop.url.host} redirected more than "
                        f"{limits.max_redirects} times; point the function at the final URL"
                    )
                following = next_hop(hop, status, location, sensitive)
                await _drain(response)
                return following
        body = await self._read_body(hop, response, headers, limits.max_bytes)
        if body.decoded:
            headers = tuple(
                (name, value)
                for name, value in headers
                if name not in ("content-encoding", "content-length")
            )
        return UpstreamResponse(
            status=status,
            headers=headers,
            body=body.finish(),
            url=str(hop.url),
            http_version=response.http_version,
        )

    async def _read_body(
        self,
        hop: Hop,
        response: WireResponse,
        headers: tuple[tuple[str, str], ...],
        max_bytes: int,
    ) -> BoundedBody:
        host = hop.url.host
        if hop.method == "HEAD" or response.status in _BODYLESS_STATUSES:
            return BoundedBody(None, max_bytes, host)
        encoding = ", ".join(value for name, value in headers if name == "content-encoding")
        body = BoundedBody(encoding or None, max_bytes, host)
        for name, value in headers:
            if name == "content-length" and _exceeds(value.strip(), max_bytes):
                raise UpstreamTooLarge(
                    f"the response from {host} declares {value.strip()[:24]} bytes, more than "
                    f"the bound of {max_bytes}; raise the function's size bound or ask for less"
                )
        while chunk := await response.read_chunk():
            body.feed(chunk)
        return body


def _exceeds(declared: str, max_bytes: int) -> bool:
    """Whether a Content-Length value declares more than ``max_bytes`` (parsers check syntax)."""
    if not declared or not set(declared) <= _DIGITS:
        return False
    return len(declared) > _MAX_LENGTH_DIGITS or int(declared) > max_bytes


async def _drain(response: WireResponse) -> None:
    """Read a little of a redirect's body, so a short one leaves the connection reusable."""
    received = 0
    while chunk := await response.read_chunk():
        received += len(chunk)
        if received > REDIRECT_DRAIN_BYTES:
            return


def _check_limits(limits: UpstreamLimits) -> None:
    if limits.timeout <= 0 or limits.max_bytes < 0 or limits.max_redirects < 0:
        raise InvalidUpstreamRequest(
            "the request's limits must have a positive timeout and non-negative max_bytes "
            "and max_redirects"
        )


class UpstreamStream:
    """A response whose head arrived; read its body with :meth:`chunks`, then :meth:`aclose`."""

    def __init__(self, response: WireResponse, host: str, timeout: float) -> None:
        self._response = response
        self._host = host
        self._timeout = timeout
        self.status = response.status
        self.headers = tuple(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in response.headers
        )

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, each piece within the timeout of the one before."""
        while True:
            try:
                async with asyncio.timeout(self._timeout):
                    chunk = await self._response.read_chunk()
            except TimeoutError:
                raise UpstreamTimeout(
                    f"the upstream {self._host} stopped sending for {self._timeout:g} seconds"
                ) from None
            if not chunk:
                return
            yield chunk

    async def aclose(self) -> None:
        """Release the connection (kept for reuse only when the body was read in full)."""
        await self._response.aclose()
