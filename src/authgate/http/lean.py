"""What the lean ASGI endpoints share: the few request headers they read, and JSON answers.

The token endpoint and the call endpoint skip FastAPI for speed; they read their headers and
write their answers the same way, with the one error mapping of :mod:`authgate.http.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from starlette.types import Scope, Send

from authgate.errors import AuthgateError
from authgate.http.errors import error_body, error_headers

_JSON_HEADERS = [
    (b"content-type", b"application/json"),
    (b"cache-control", b"no-store"),
    (b"pragma", b"no-cache"),
]
_FIXED = frozenset(name for name, _ in _JSON_HEADERS)


@dataclass(frozen=True, slots=True)
class LeanRequest:
    """The parts of a request a lean endpoint reads."""

    content_type: str | None
    authorization: str | None
    ip: str | None


def lean_request(scope: Scope) -> LeanRequest:
    """Content type, Authorization header and peer address of an HTTP scope."""
    content_type = authorization = None
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value.decode("latin-1")
        elif name == b"authorization":
            authorization = value.decode("latin-1")
    client = scope.get("client")
    return LeanRequest(content_type, authorization, client[0] if client else None)


async def send_json(send: Send, status: int, payload: object) -> None:
    """A JSON answer that is never cached."""
    await _send(send, status, orjson.dumps(payload), [])


async def send_error(send: Send, error: AuthgateError) -> None:
    """The answer for an authgate error, with the headers it needs."""
    extra = [
        (name, value)
        for name, value in (
            (k.lower().encode(), v.encode()) for k, v in error_headers(error).items()
        )
        if name not in _FIXED
    ]
    await _send(send, error.status, orjson.dumps(error_body(error)), extra)


async def _send(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
