"""Starlette and FastAPI integration of the home-server kit (imports Starlette).

Two ways to use it:

* :class:`SignedFetchMiddleware` verifies every request (but ``exempt_paths``) before the
  application sees it, answers a refused one itself, and puts the :class:`SignedFetch` in
  ``request.state.signed_fetch`` (read it with :func:`current_signed_fetch`, also usable as a
  FastAPI dependency);
* :func:`require_signed_fetch` builds a FastAPI dependency that verifies the request it is
  given; register :func:`error_handlers` so that its errors are answered as JSON.

Behind a reverse proxy, pass ``public_origin`` (``https://home.example.org``): the signature
covers the URL the gateway addressed, not the one the proxy forwarded to.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from authgate.errors import AuthgateError
from authgate.homeserver.errors import MissingIdentity, RequestBodyTooLarge
from authgate.homeserver.identity import SignedFetch
from authgate.homeserver.responses import (
    DEFAULT_MAX_BODY,
    DEFAULT_REALM,
    AdapterOptions,
    error_body,
    error_headers,
)
from authgate.homeserver.verifier import AsyncSignedFetchVerifier, SignedFetchVerifier

STATE_KEY = "signed_fetch"

AnyVerifier = SignedFetchVerifier | AsyncSignedFetchVerifier


def _too_large(limit: int) -> RequestBodyTooLarge:
    return RequestBodyTooLarge(f"the request body is larger than {limit} bytes")


def request_url(scope: Scope, headers: Headers, public_origin: str | None) -> str:
    """The absolute URL of the request as its sender wrote it (path not re-encoded)."""
    if public_origin is not None:
        origin = public_origin.rstrip("/")
    else:
        host = headers.get("host")
        if not host:
            server = scope.get("server") or ("localhost", None)
            host = server[0] if server[1] is None else f"{server[0]}:{server[1]}"
        origin = f"{scope.get('scheme', 'http')}://{host}"
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else scope.get("root_path", "") + scope["path"]
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{origin}{path}?{query}" if query else f"{origin}{path}"


async def _verify(
    verifier: AnyVerifier, method: str, url: str, headers: Headers, body: bytes
) -> SignedFetch:
    if isinstance(verifier, AsyncSignedFetchVerifier):
        return await verifier.verify(method, url, headers, body)
    return verifier.verify(method, url, headers, body)


def error_response(error: AuthgateError, realm: str = DEFAULT_REALM) -> Response:
    """The JSON answer to a refused request."""
    return Response(
        error_body(error), status_code=error.status, headers=dict(error_headers(error, realm))
    )


def _declared_length(headers: Headers, limit: int) -> None:
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)


class SignedFetchMiddleware:
    """ASGI middleware: verify each request, answer refusals, hand the identity on."""

    def __init__(self, app: ASGIApp, verifier: AnyVerifier, **options: Any) -> None:
        """``options`` are those of :class:`AdapterOptions`."""
        self.app = app
        self.verifier = verifier
        settings = AdapterOptions(**options)
        self.public_origin = settings.public_origin
        self.realm = settings.realm
        self.max_body = settings.max_body
        self.exempt_paths = frozenset(settings.exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Verify an HTTP request, then call the application with its body replayed."""
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            _declared_length(headers, self.max_body)
            body = await self._read(receive)
            url = request_url(scope, headers, self.public_origin)
            fetch = await _verify(self.verifier, scope["method"], url, headers, body)
        except AuthgateError as error:
            await error_response(error, self.realm)(scope, receive, send)
            return
        scope.setdefault("state", {})[STATE_KEY] = fetch
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _too_large(self.max_body)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect

    return replayed


def current_signed_fetch(request: Request) -> SignedFetch:
    """The :class:`SignedFetch` the middleware verified (a FastAPI dependency as it is)."""
    fetch = getattr(request.state, STATE_KEY, None)
    if not isinstance(fetch, SignedFetch):
        raise MissingIdentity(
            "this route is not behind SignedFetchMiddleware; add the middleware or use "
            "require_signed_fetch"
        )
    return fetch


def require_signed_fetch(
    verifier: AnyVerifier,
    *,
    public_origin: str | None = None,
    max_body: int = DEFAULT_MAX_BODY,
) -> Callable[[Request], Awaitable[SignedFetch]]:
    """A FastAPI dependency verifying the request: ``fetch = Depends(require_signed_fetch(v))``.

    The body stays readable by the route. Register :func:`error_handlers` on the application.
    """

    async def dependency(request: Request) -> SignedFetch:
        _declared_length(request.headers, max_body)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body:
                raise _too_large(max_body)
            chunks.append(chunk)
        body = b"".join(chunks)
        request._body = body  # Starlette's cache: the route may still read the body
        url = request_url(request.scope, request.headers, public_origin)
        return await _verify(verifier, request.method, url, request.headers, body)

    return dependency


def error_handlers(
    realm: str = DEFAULT_REALM,
) -> Mapping[Any, Callable[[Request, Exception], Awaitable[Response]]]:
    """``exception_handlers=`` for ``Starlette(…)`` or ``FastAPI(…)``: the kit's JSON errors."""

    async def handle(_request: Request, error: Exception) -> Response:
        assert isinstance(error, AuthgateError)
        return error_response(error, realm)

    return {AuthgateError: handle}
