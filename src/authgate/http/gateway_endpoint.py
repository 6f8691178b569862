"""The apps gateway's two ASGI routes, streaming the home server's answer back.

- ``/v1/gateway/{app}/{path…}``: a registered container's OAuth 1.0a signed request;
- ``/v1/apps/{app}/fetch/{path…}``: a device's request with an authgate access token.

Any method is accepted. The body was already read, bounded, by the middleware; the
signature covers the URL the container addressed, which is this deployment's public URL
(``AUTHGATE_PUBLIC_URL``) followed by the raw path and query. The home server's status,
headers (hop-by-hop fields and ``Set-Cookie`` removed) and body go back as they arrive;
a redirect is returned, never followed.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from starlette.types import ASGIApp, Receive, Scope, Send

from authgate.errors import AuthgateError
from authgate.http.deps import authenticate, require_user
from authgate.http.lean import lean_request, send_error
from authgate.http.middleware import GATEWAY_BODY_BYTES, ClientGone, read_bounded
from authgate.http.services import Services
from authgate.signedfetch.forwarding import ForwardRequest
from authgate.signedfetch.gateway import IncomingRequest

GATEWAY_PREFIX = "/v1/gateway/"
APPS_PREFIX = "/v1/apps/"
FETCH_SEGMENT = "/fetch/"
GATEWAY_ROUTE = "/v1/gateway/{app}/{path}"
FETCH_ROUTE = "/v1/apps/{app}/fetch/{path}"

# Not passed back: hop-by-hop fields (RFC 9110 §7.6.1), and cookies, which the home server
# would otherwise set on this deployment's origin.
_DROPPED_RESPONSE_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-connection",
        "set-cookie",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


def gateway_target(raw_path: str) -> tuple[str, str, bool] | None:
    """``(app, path below it, signed)`` for a gateway route, else None."""
    if raw_path.startswith(GATEWAY_PREFIX):
        app, slash, rest = raw_path[len(GATEWAY_PREFIX) :].partition("/")
        return (unquote(app), rest, True) if app and slash else None
    if raw_path.startswith(APPS_PREFIX):
        app, found, rest = raw_path[len(APPS_PREFIX) :].partition(FETCH_SEGMENT)
        return (unquote(app), rest, False) if app and found and "/" not in app else None
    return None


class GatewayEndpoint:
    """Serves the gateway routes; passes every other request on."""

    def __init__(self, app: ASGIApp, services: Callable[[], Services]) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode()
        target = gateway_target(raw_path.decode("latin-1"))
        if target is None:
            await self.app(scope, receive, send)
            return
        app_id, path, signed = target
        scope["authgate.route"] = GATEWAY_ROUTE if signed else FETCH_ROUTE
        services = self.services()
        try:
            body = await read_bounded(receive, GATEWAY_BODY_BYTES)
            if body is None:  # the middleware bounds it first; this is its second line
                return
            incoming = _incoming(services, scope, raw_path, path, body)
            if signed:
                forward = await services.gateway.from_container(app_id, incoming)
            else:
                request = lean_request(scope)
                caller = require_user(
                    await authenticate(services, request.authorization, request.ip)
                )
                assert caller.actor.user_id is not None
                forward = await services.gateway.for_user(app_id, caller.actor.user_id, incoming)
            await _relay(services, forward, send)
        except _Truncated:
            return  # the head went out; closing without the body's end tells the client
        except AuthgateError as error:
            await send_error(send, error)
        except ClientGone:
            return


def _incoming(
    services: Services, scope: Scope, raw_path: bytes, path: str, body: bytes
) -> IncomingRequest:
    query = scope.get("query_string", b"").decode("latin-1")
    addressed = services.settings.issuer.rstrip("/") + raw_path.decode("latin-1")
    if query:
        addressed += "?" + query
    return IncomingRequest(
        method=scope["method"],
        url=addressed,
        path=path,
        query=query,
        headers=[(n.decode("latin-1"), v.decode("latin-1")) for n, v in scope["headers"]],
        body=body,
    )


async def _relay(services: Services, forward: ForwardRequest, send: Send) -> None:
    stream = await services.home_servers.open(forward, services.settings.gateway_timeout)
    try:
        headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in stream.headers
            if name.lower() not in _DROPPED_RESPONSE_HEADERS
        ]
        start = {"type": "http.response.start", "status": stream.status, "headers": headers}
        started = False
        try:
            # The head waits for the first piece of body, so that a home server that stalls
            # before answering still gets a proper 504.
            async for chunk in stream.chunks():
                if not started:
                    await send(start)
                    started = True
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except AuthgateError:
            if started:
                raise _Truncated from None
            raise
        if not started:
            await send(start)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        await stream.aclose()


class _Truncated(Exception):
    """The home server failed after its answer had begun to go back."""
