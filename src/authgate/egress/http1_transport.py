"""The fast path: one request on a pooled HTTP/1.1 connection (see :mod:`.transports`).

A request whose kept-alive connection turns out to be closed by the upstream before any byte
of a response arrived is sent again once, on a new connection, when its method is idempotent
(RFC 9110 §9.2.2; RFC 9112 §9.3.1 allows this retry). Any other failure is final.
"""

from __future__ import annotations

from authgate.egress.errors import InvalidUpstreamRequest
from authgate.egress.http1 import Http1Connection, request_head
from authgate.egress.http1_pool import Http1Pool
from authgate.egress.redirects import Hop
from authgate.egress.targets import port_of
from authgate.egress.transports import WireHeaders
from authgate.functions.errors import UpstreamError

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class Http1Response:
    """A response on a pooled connection; :meth:`aclose` returns the connection to the pool."""

    __slots__ = ("_connection", "_pool", "headers", "http_version", "status")

    def __init__(self, connection: Http1Connection, pool: Http1Pool) -> None:
        self._connection: Http1Connection | None = connection
        self._pool = pool
        self.status = connection.status
        self.headers = connection.headers
        self.http_version = connection.http_version

    async def read_chunk(self) -> bytes:
        """The next body bytes, ``b""`` at the end."""
        assert self._connection is not None
        return await self._connection.read()

    async def aclose(self) -> None:
        """Pool the connection if the response was read to its end, else close it."""
        connection, self._connection = self._connection, None
        if connection is not None:
            self._pool.release(connection)


class Http1Transport:
    """Sends requests over :class:`Http1Pool` connections."""

    def __init__(self, pool: Http1Pool) -> None:
        self._pool = pool

    @property
    def pool(self) -> Http1Pool:
        """The connections this transport uses."""
        return self._pool

    async def open(self, hop: Hop, headers: WireHeaders) -> Http1Response:
        """Send ``hop`` and await its response head."""
        url = hop.url
        key = (url.scheme, url.raw_host.decode("ascii").lower(), port_of(url))
        try:
            request = request_head(hop.method, url.raw_path, headers)
        except ValueError:
            raise InvalidUpstreamRequest(
                f"the URL for {url.host} holds a space or control character in its path"
            ) from None
        if hop.body:
            request += hop.body
        retried = False
        while True:
            connection, reused = await self._pool.acquire(key)
            try:
                connection.begin(request, head_only=hop.method == "HEAD")
                await connection.head()
            except UpstreamError:
                self._pool.discard(connection)
                if (
                    reused
                    and not retried
                    and not connection.answered
                    and hop.method in IDEMPOTENT_METHODS
                ):
                    retried = True
                    continue
                raise
            except BaseException:
                self._pool.discard(connection)
                raise
            return Http1Response(connection, self._pool)

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._pool.aclose()
