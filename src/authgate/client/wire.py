"""The SDK's one core, free of I/O: requests to make, answers to read, waits to take.

Every operation of the SDK is a *flow*: a generator that yields what it needs done — an
HTTP request to the server (:class:`Call`) or a pause (:class:`Pause`) — and receives the
answer, until it returns its result. :class:`authgate.client.sync_client.Client` runs flows with a
blocking ``httpx.Client``, :class:`authgate.client.async_client.AsyncClient` with an
``httpx.AsyncClient``; the logic lives here once, as in httpx's own sync/async split.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson

from authgate.client.errors import error_from_body

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Call:
    """One request to the server. ``authenticated`` adds the session's bearer token."""

    method: str
    path: str
    json: Any = None
    form: Mapping[str, str] | None = field(default=None, repr=False)
    headers: tuple[tuple[str, str], ...] = ()
    authenticated: bool = True


@dataclass(frozen=True, slots=True)
class Answer:
    """The server's answer to a :class:`Call`. Header names are lower-case."""

    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)

    def json(self) -> Any:
        """The body as JSON (``None`` when empty)."""
        return orjson.loads(self.body) if self.body else None

    def ok(self) -> Any:
        """The JSON body of a 2xx answer; otherwise the error it describes, raised."""
        if 200 <= self.status < 300:
            return self.json()
        raise self.error()

    def error(self) -> Exception:
        """The error this answer describes."""
        try:
            body = self.json()
        except orjson.JSONDecodeError:
            body = None
        return error_from_body(self.status, body)


@dataclass(frozen=True, slots=True)
class Pause:
    """Wait this many seconds before going on (device-code polling)."""

    seconds: float


Step = Call | Pause
Flow = Generator[Step, Answer | None, T]
"""A flow yields steps, receives an :class:`Answer` for each :class:`Call` (``None`` after
a :class:`Pause`), and returns its result."""
