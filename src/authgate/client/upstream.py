"""The engine's :class:`~authgate.functions.ports.Upstream` on a device, over httpx.

The device calls the APIs of its local functions itself. The engine has already checked
the URL against the hosts the request's credentials are bound to; this transport keeps that
promise across redirects (RFC 9110 §15.4: each hop re-checked, credentials dropped when a
hop leaves the origin, 303 — and 301/302 after a POST — becoming a GET without content) and
bounds each request in bytes (after decoding) and time, as the server's egress client does.
Unlike the server, a device may call private and loopback addresses: they are the device
user's own network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from authgate.client.errors import (
    DeviceHostNotAllowed,
    DeviceMalformedResponse,
    DeviceTooManyRedirects,
    DeviceUpstreamTimeout,
    DeviceUpstreamTooLarge,
    DeviceUpstreamUnreachable,
)
from authgate.functions.ports import UpstreamLimits, UpstreamRequest, UpstreamResponse
from authgate.functions.request_url import normal_host

REDIRECTS = frozenset({301, 302, 303, 307, 308})
ALWAYS_SENSITIVE = frozenset({"authorization", "proxy-authorization", "cookie"})
_CONTENT_HEADERS = frozenset({"content-type", "content-encoding", "content-length"})


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


class HttpxUpstream:
    """Sends the engine's requests with an ``httpx.AsyncClient`` (redirects handled here).

    ``on_response`` is told of every final response (the CLI counts pages with it).
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        on_response: Callable[[UpstreamResponse], None] | None = None,
    ) -> None:
        self._http = http
        self.on_response = on_response

    async def send(self, request: UpstreamRequest, limits: UpstreamLimits) -> UpstreamResponse:
        """The response within ``limits``, or an :class:`UpstreamError`."""
        url = httpx.URL(request.url)
        try:
            async with asyncio.timeout(limits.timeout):
                response = await self._exchange(request, url, limits)
        except TimeoutError:
            raise DeviceUpstreamTimeout(
                f"the upstream {url.host} did not answer within {limits.timeout:g} seconds"
            ) from None
        if self.on_response is not None:
            self.on_response(response)
        return response

    async def _exchange(
        self, request: UpstreamRequest, url: httpx.URL, limits: UpstreamLimits
    ) -> UpstreamResponse:
        method, body = request.method, request.body
        headers = list(request.headers)
        dropped = request.sensitive_headers | ALWAYS_SENSITIVE
        for _ in range(limits.max_redirects + 1):
            _check_host(url, request.allowed_hosts)
            try:
                async with self._http.stream(method, url, headers=headers, content=body) as answer:
                    location = answer.headers.get("location")
                    if answer.status_code not in REDIRECTS or location is None:
                        data = await _bounded(answer, limits.max_bytes)
                        return UpstreamResponse(
                            status=answer.status_code,
                            headers=tuple(
                                (k.decode("latin-1").lower(), v.decode("latin-1"))
                                for k, v in answer.headers.raw
                            ),
                            body=data,
                            url=str(answer.url),
                            http_version=answer.http_version,
                        )
            except httpx.InvalidURL:
                # httpx reads a redirect's Location itself, even when not following it.
                raise DeviceMalformedResponse(
                    f"the upstream {url.host} redirected to a Location that is not a URL"
                ) from None
            except httpx.TransportError as error:
                raise DeviceUpstreamUnreachable(
                    f"the upstream {url.host} could not be reached ({type(error).__name__})"
                ) from None
            try:
                target = url.join(location.strip()).copy_with(fragment=None)
            except (httpx.InvalidURL, ValueError):
                raise DeviceMalformedResponse(
                    f"the upstream {url.host} redirected to a Location that is not a URL"
                ) from None
            if target.scheme not in ("http", "https") or not target.host:
                raise DeviceHostNotAllowed(
                    f"the upstream {url.host} redirected to a URL that is not http(s)"
                )
            status = answer.status_code
            if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
                method, body = "GET", None
                headers = [(k, v) for k, v in headers if k.lower() not in _CONTENT_HEADERS]
            if _origin(target) != _origin(url):
                headers = [(k, v) for k, v in headers if k.lower() not in dropped]
            url = target
        raise DeviceTooManyRedirects(
            f"the upstream redirected more than {limits.max_redirects} times"
        )


def _check_host(url: httpx.URL, allowed: frozenset[str] | None) -> None:
    if allowed is not None and normal_host(url.host) not in allowed:
        raise DeviceHostNotAllowed(
            f"the function's credentials are not bound to {url.host[:253]}; the request "
            "(or a redirect) would have taken them there"
        )


async def _bounded(answer: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in answer.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise DeviceUpstreamTooLarge(
                f"the upstream's answer is larger than {limit} bytes (after decoding)"
            )
        chunks.append(chunk)
    return b"".join(chunks)
