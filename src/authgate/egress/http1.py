"""One HTTP/1.1 client connection on an asyncio transport (RFC 9112), parsed by ``httptools``.

An :class:`Http1Connection` carries one exchange at a time: the request is written in full
(requests are never pipelined), then the response is parsed as it arrives. Framing follows
RFC 9112 §6.3: no body after a HEAD request or a 1xx, 204 or 304 status; a chunked body
(§7.1) or one of ``Content-Length`` bytes; otherwise the body runs until the upstream closes
the connection. ``httptools`` (llhttp, strict mode) refuses conflicting or repeated lengths and
``Content-Length`` beside ``Transfer-Encoding``, so a response cannot be framed two ways.

Interim 1xx responses are skipped; 101 (a protocol switch that was never asked for) is
malformed. The status line and header fields may take at most :data:`HEAD_LIMIT` bytes, 1xx
heads included. Reading pauses while more than :data:`READ_HIGH_WATER` body bytes wait to be
consumed, so a fast upstream cannot fill memory faster than the size bound is checked.

A connection is reusable only when the response was complete, both sides allow keep-alive,
its end was framed by length or chunking, the request was not HEAD (a HEAD response's length
header cannot be told from a body sent by mistake) and no byte arrived beyond it. Bytes that
arrive while a connection is idle make it unusable.
"""

from __future__ import annotations

import asyncio
import re
from typing import cast

from httptools import HttpParserError, HttpParserUpgrade, HttpResponseParser

from authgate.egress.errors import MalformedUpstreamResponse, UpstreamUnreachable
from authgate.functions.errors import UpstreamError

HEAD_LIMIT = 100 * 1024
READ_HIGH_WATER = 256 * 1024
_NO_BODY_STATUSES = frozenset({204, 304})
_UNSAFE_TARGET = re.compile(rb"[\x00-\x20\x7f]")


def request_head(method: str, target: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    """The request line and header section (RFC 9112 §3, §5) of a request in origin form.

    The headers were checked by :mod:`.headers`; the target comes from a parsed URL and
    holds no space or control byte (checked again here, because one would split the line).
    """
    if not target:
        target = b"/"
    if _UNSAFE_TARGET.search(target):
        raise ValueError("a request target holds a space or control byte")
    parts = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
    for name, value in headers:
        parts += (name, b": ", value, b"\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


class Http1Connection(asyncio.Protocol):
    """An HTTP/1.1 connection to ``origin`` (scheme, host, port); the host names it in errors."""

    __slots__ = (
        "_answered",
        "_body_until_close",
        "_buffered",
        "_chunks",
        "_complete",
        "_dirty",
        "_error",
        "_head_bytes",
        "_head_done",
        "_head_only",
        "_interim",
        "_keep_alive",
        "_lost",
        "_parser",
        "_paused",
        "_transport",
        "_waiter",
        "headers",
        "host",
        "http_version",
        "idle_since",
        "origin",
        "status",
    )

    def __init__(self, origin: tuple[str, str, int]) -> None:
        self.origin = origin
        self.host = origin[1]
        self.idle_since = 0.0
        self._transport: asyncio.Transport | None = None
        self._lost = False
        self._waiter: asyncio.Future[None] | None = None
        self._parser: HttpResponseParser | None = None
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.http_version = "HTTP/1.1"
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._paused = False
        self._answered = False
        self._head_done = False
        self._head_bytes = 0
        self._head_only = False
        self._interim = False
        self._complete = False
        self._keep_alive = False
        self._body_until_close = False
        self._dirty = False
        self._error: UpstreamError | None = None

    # The connection, as the pool sees it.

    @property
    def usable(self) -> bool:
        """Whether the connection is open and idle without anything unexpected received."""
        transport = self._transport
        return (
            transport is not None
            and not self._lost
            and not self._dirty
            and not transport.is_closing()
            and self._parser is None
        )

    @property
    def reusable(self) -> bool:
        """Whether the last exchange left the connection fit for the next request."""
        return (
            self._complete
            and self._keep_alive
            and not self._body_until_close
            and not self._head_only
            and not self._dirty
            and not self._lost
            and not self._chunks
        )

    @property
    def answered(self) -> bool:
        """Whether any byte of a response arrived in the current exchange."""
        return self._answered

    def close(self) -> None:
        """Drop the connection at once (no graceful shutdown is owed to an upstream)."""
        self._lost = True
        if self._transport is not None:
            self._transport.abort()

    # One exchange.

    def begin(self, request: bytes, *, head_only: bool) -> None:
        """Write ``request`` (head and body) and start reading its response."""
        assert self._transport is not None
        assert self._parser is None
        self._reset()
        self._head_only = head_only
        self._parser = HttpResponseParser(self)
        self._transport.write(request)

    def end(self) -> None:
        """Finish the exchange (before the connection is pooled or closed)."""
        self._parser = None
        self._chunks = []
        if self._paused and self._transport is not None and not self._lost:
            self._paused = False
            self._transport.resume_reading()

    async def head(self) -> None:
        """Wait for the final response's status and headers (``status``, ``headers``)."""
        while not self._head_done:
            if self._error is not None:
                raise self._error
            await self._wait()

    async def read(self) -> bytes:
        """The next body bytes received, or ``b""`` once the body is complete."""
        while True:
            if self._chunks:
                chunks = self._chunks
                data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                self._chunks = []
                self._buffered = 0
                if self._paused and self._transport is not None:
                    self._paused = False
                    self._transport.resume_reading()
                return data
            if self._complete:
                return b""
            if self._error is not None:
                raise self._error
            await self._wait()

    async def _wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, error: UpstreamError) -> None:
        if self._error is None and not self._complete:
            self._error = error
        self._dirty = True

    def _malformed(self, what: str) -> MalformedUpstreamResponse:
        return MalformedUpstreamResponse(
            f"the upstream {self.host} sent a response that is not valid HTTP: {what}"
        )

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport the connection writes to."""
        # uvloop's transports are not asyncio.Transport subclasses, but offer the same methods.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        """Feed received bytes to the response parser."""
        parser = self._parser
        if parser is None:
            # Nothing is owed while idle: the upstream is closing or confused.
            self._dirty = True
            if self._transport is not None:
                self._transport.abort()
            return
        self._answered = True
        if not self._head_done:
            self._head_bytes += len(data)
        try:
            parser.feed_data(data)
        except HttpParserUpgrade:
            self._fail(self._malformed("it switched protocols, which was not asked for"))
        except HttpParserError:
            # After a complete response, more bytes only make the connection unusable.
            self._fail(self._malformed("its framing or syntax is broken"))
        if not self._head_done and self._head_bytes > HEAD_LIMIT:
            self._fail(self._malformed(f"its header section is over {HEAD_LIMIT} bytes"))
        if self._buffered > READ_HIGH_WATER and not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        """The upstream closed its side: the end of a body that runs until close."""
        self._end_of_stream(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is gone; an exchange in progress fails unless it was complete."""
        self._end_of_stream(exc)
        self._lost = True
        self._wake()

    def _end_of_stream(self, exc: Exception | None) -> None:
        self._dirty = True
        if self._parser is None or self._complete:
            return
        if self._head_done and self._body_until_close and exc is None:
            self._complete = True
        elif not self._answered:
            self._fail(
                UpstreamUnreachable(f"the upstream {self.host} closed the connection unanswered")
            )
        elif exc is None:
            self._fail(self._malformed("the connection closed before the response was complete"))
        else:
            self._fail(
                UpstreamUnreachable(
                    f"the connection to {self.host} broke off before the response was complete"
                )
            )
        self._wake()

    # httptools callbacks (they never raise: a raised error would lose its message).

    def on_message_begin(self) -> None:
        """A response starts: after a complete one, it is an unrequested extra."""
        if self._complete:
            self._dirty = True
        elif not self._head_done:
            self.headers = []

    def on_header(self, name: bytes, value: bytes) -> None:
        """One header field of the head (trailer fields are not kept)."""
        if not self._head_done:
            self.headers.append((name, value.strip(b" \t")))

    def on_headers_complete(self) -> None:
        """The head is complete: skip a 1xx, or note the final status and framing."""
        parser = self._parser
        assert parser is not None
        status = parser.get_status_code()
        if status < 200:
            self._interim = True
            return
        self.status = status
        self.http_version = "HTTP/" + parser.get_http_version()
        self._head_done = True
        if self._head_only:
            self._complete = True
            return
        if status in _NO_BODY_STATUSES:
            return
        self._body_until_close = not _framed(self.headers)

    def on_body(self, body: bytes) -> None:
        """Body bytes; any after the response was complete make the connection unusable."""
        if self._complete:
            self._dirty = True
            return
        self._chunks.append(body)
        self._buffered += len(body)

    def on_message_complete(self) -> None:
        """The response (or an interim 1xx) ended."""
        if self._interim:
            self._interim = False
            return
        if self._complete:
            return
        parser = self._parser
        assert parser is not None
        self._keep_alive = parser.should_keep_alive()
        self._complete = True


def _framed(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether a response names its length or a transfer coding (RFC 9112 §6.3).

    Only a response naming neither runs until the connection closes. One with a transfer
    coding other than chunked is never complete at the close: such a body is refused.
    """
    return any(name.lower() in (b"content-length", b"transfer-encoding") for name, _ in headers)
