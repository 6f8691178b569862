"""Real upstream servers on 127.0.0.1 for the egress tests.

:class:`Upstream` speaks HTTP/1.1 (parsed by h11) on an ephemeral port; each test gives it
handlers per path. It records every request and counts TCP connections, so tests can see
what reached the server (headers that were or were not sent) and whether connections were
reused; given a TLS context it serves HTTPS and records the SNI name and the ALPN protocol
chosen. :class:`RawUpstream` runs a script per connection, for responses no well-behaved server
library would send. :class:`H2Upstream` speaks HTTP/2 over TLS and records the SNI name it was
sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h11


@dataclass
class Received:
    """One request as the upstream saw it."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    connection: int
    peer: str

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)


class Reply:
    """Writes one response on an h11 connection."""

    def __init__(self, conn: h11.Connection, writer: asyncio.StreamWriter) -> None:
        self._conn = conn
        self._writer = writer

    async def _write(self, event: h11.Event) -> None:
        data = self._conn.send(event)
        if data:
            self._writer.write(data)
            await self._writer.drain()

    async def start(self, status: int, headers: list[tuple[str, str]]) -> None:
        await self._write(h11.Response(status_code=status, headers=headers))

    async def data(self, chunk: bytes) -> None:
        await self._write(h11.Data(data=chunk))

    async def end(self) -> None:
        await self._write(h11.EndOfMessage())

    async def send(self, status: int, headers: list[tuple[str, str]], body: bytes = b"") -> None:
        await self.start(status, [*headers, ("content-length", str(len(body)))])
        if body:
            await self.data(body)
        await self.end()


Handler = Callable[[Received, Reply], Awaitable[None]]


async def echo(request: Received, reply: Reply) -> None:
    """Answer with the request's method, headers and body, one line each."""
    lines = [request.method, *(f"{key}: {value}" for key, value in request.headers)]
    await reply.send(
        200, [("content-type", "text/plain")], "\n".join(lines).encode() + b"\n\n" + request.body
    )


@dataclass
class Upstream:
    """An HTTP/1.1 server on 127.0.0.1 with per-path handlers (HTTPS with ``tls``)."""

    routes: dict[str, Handler] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    tls: ssl.SSLContext | None = None
    sni_names: list[str | None] = field(default_factory=list)
    alpn_chosen: list[str | None] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    async def start(self) -> Upstream:
        if self.tls is not None:
            self.tls.sni_callback = self._record_sni
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        return self

    def _record_sni(
        self, _socket: ssl.SSLObject, name: str | None, _context: ssl.SSLContext
    ) -> None:
        self.sni_names.append(name)

    async def close(self) -> None:
        self.closing.set()
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        self._writers.add(writer)
        tls_object = writer.get_extra_info("ssl_object")
        if tls_object is not None:
            self.alpn_chosen.append(tls_object.selected_alpn_protocol())
        conn = h11.Connection(h11.SERVER)
        peer = str(writer.get_extra_info("peername")[0])
        try:
            while not self.closing.is_set():
                request = await self._read_request(conn, reader, number, peer)
                if request is None:
                    break
                self.received.append(request)
                handler = self.routes.get(request.target.split("?")[0], echo)
                await handler(request, Reply(conn, writer))
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    break
                conn.start_next_cycle()
        except (ConnectionError, h11.ProtocolError, ssl.SSLError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()

    async def _read_request(
        self, conn: h11.Connection, reader: asyncio.StreamReader, number: int, peer: str
    ) -> Received | None:
        head: h11.Request | None = None
        body = b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Request):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage) and head is not None:
                return Received(
                    method=head.method.decode(),
                    target=head.target.decode(),
                    headers=[(k.decode().lower(), v.decode()) for k, v in head.headers],
                    body=body,
                    connection=number,
                    peer=peer,
                )
            else:
                return None


def redirect_to(location: str, status: int = 302) -> Handler:
    """A handler answering with a redirect."""

    async def handler(request: Received, reply: Reply) -> None:
        await reply.send(status, [("location", location)])

    return handler


Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]
"""Serves one connection: reader, writer and the connection's number (from 1)."""


async def read_head(reader: asyncio.StreamReader) -> bytes:
    """One request head, up to and including the blank line (``b""`` at end of stream)."""
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return b""


class RawUpstream:
    """A server on 127.0.0.1 that runs ``script`` for each connection and records heads.

    Scripts append every request head they read to :attr:`heads`, with the connection's
    number, through :meth:`head`.
    """

    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections = 0
        self.heads: list[tuple[int, bytes]] = []
        self.closed = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def head(self, reader: asyncio.StreamReader, number: int) -> bytes:
        """Read one request head and record it; ``b""`` when the client closed."""
        head = await read_head(reader)
        if head:
            self.heads.append((number, head))
        return head

    async def start(self) -> RawUpstream:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            await self.script(reader, writer, self.connections)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            self.closed.set()


class H2Upstream:
    """An HTTP/2-over-TLS server on 127.0.0.1 that echoes ``:authority`` and the path."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.sni_names: list[str | None] = []
        self.connections = 0
        context.set_alpn_protocols(["h2"])
        context.sni_callback = self._record_sni
        self._context = context
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def _record_sni(
        self, _socket: ssl.SSLObject, name: str | None, _context: ssl.SSLContext
    ) -> None:
        self.sni_names.append(name)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> H2Upstream:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self._context)
        return self

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        heads: dict[int, dict[str, str]] = {}
        try:
            while data := await reader.read(65536):
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived) and event.headers:
                        heads[event.stream_id] = {
                            (k.decode() if isinstance(k, bytes) else k): (
                                v.decode() if isinstance(v, bytes) else v
                            )
                            for k, v in event.headers
                        }
                    elif isinstance(event, h2.events.StreamEnded):
                        head = heads.pop(event.stream_id, {})
                        body = f"{head.get(':authority')} {head.get(':path')}".encode()
                        conn.send_headers(
                            event.stream_id,
                            [(":status", "200"), ("content-length", str(len(body)))],
                        )
                        conn.send_data(event.stream_id, body, end_stream=True)
                writer.write(conn.data_to_send())
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()
