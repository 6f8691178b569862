"""Pure ASGI middleware: request-size limit, metrics and the access log.

Written against raw ASGI rather than Starlette's BaseHTTPMiddleware: it adds a few
microseconds per request instead of a task and a stream per request.
"""

from __future__ import annotations

import re
import time
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 64 * 1024
SOLUTION_BODY_BYTES = 8 * 1024 * 1024
CALL_BODY_BYTES = 1024 * 1024
GATEWAY_BODY_BYTES = 1024 * 1024
LARGER_BODIES: tuple[tuple[str, re.Pattern[str], int], ...] = (
    # A whole solution folder is published in one request.
    ("PUT", re.compile(r"/v1/orgs/[^/]+/solutions/[^/]+"), SOLUTION_BODY_BYTES),
    # A function's parameters may carry a record to create upstream.
    ("POST", re.compile(r"/v1/solutions/[^/]+/functions/[^/]+"), CALL_BODY_BYTES),
    # The apps gateway forwards bodies to home servers, whatever the method.
    *(
        (method, re.compile(pattern), GATEWAY_BODY_BYTES)
        for method in ("POST", "PUT", "PATCH", "DELETE")
        for pattern in (r"/v1/gateway/[^/]+/.*", r"/v1/apps/[^/]+/fetch/.*")
    ),
)
"""The routes that accept more than :data:`MAX_BODY_BYTES`: (method, full path, limit)."""
log = structlog.get_logger("authgate.access")

REQUESTS = Counter("authgate_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "authgate_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


def _too_large(limit: int) -> bytes:
    return (
        b'{"error":{"code":"payload_too_large","message":"the request body must be at most '
        + str(limit).encode()
        + b' bytes"}}'
    )


# Served by the lean ASGI path, outside FastAPI's router, so named by their path.
_UNROUTED = frozenset({"/oauth/token"})


class LimitAndObserve:
    """Refuses oversized bodies cheaply; counts and logs every request (never its body).

    A request body is read here, whole and bounded, before the application sees it: a body
    past the limit gets 413 whether or not it declared a ``Content-Length``, and no route
    ever reads an unbounded stream.
    """

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        declared = _content_length(scope)
        limit = self._limit(scope)
        body = None
        if declared is None or declared <= limit:
            try:
                body = await read_bounded(receive, limit)
            except ClientGone:
                return
        if body is None:
            await _send_too_large(send, limit)
            self._observe(scope, 413, started)
            return
        status = 500
        delivered = False

        async def replay_receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: only http.disconnect

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, replay_receive, observed_send)
        self._observe(scope, status, started)

    def _limit(self, scope: Scope) -> int:
        method = scope.get("method")
        if method in ("PUT", "POST", "PATCH", "DELETE"):
            for wanted, path, limit in LARGER_BODIES:
                if method == wanted and path.fullmatch(scope["path"]):
                    return max(limit, self.max_body)
        return self.max_body

    def _observe(self, scope: Scope, status: int, started: float) -> None:
        elapsed = time.perf_counter() - started
        route: Any = scope.get("route")
        if route is not None:
            template = str(route.path)
        elif "authgate.route" in scope:  # set by the lean endpoints
            template = str(scope["authgate.route"])
        elif scope["path"] in _UNROUTED:
            template = scope["path"]
        else:
            template = "unmatched"  # unknown paths must not grow the label set
        method = scope.get("method", "")
        key = (method, template, status)
        children = self._children.get(key)
        if children is None:
            # Label lookups take a lock each; remember the children (a bounded set of routes).
            children = (
                REQUESTS.labels(method, template, str(status)),
                LATENCY.labels(method, template),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(elapsed)
        client = scope.get("client")
        log.info(
            "request",
            method=method,
            route=template,
            status=status,
            ms=round(elapsed * 1000, 2),
            ip=client[0] if client else None,
        )


class ClientGone(Exception):
    """The client disconnected before its body arrived."""


async def read_bounded(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it exceeds ``limit`` bytes; :class:`ClientGone`
    when the client disconnects first."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_too_large(send: Send, limit: int) -> None:
    body = _too_large(limit)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
