"""The two ways the egress client sends a request, and which one each request takes.

* The fast path (:mod:`.http1_transport`): the client's own HTTP/1.1 connections on asyncio,
  parsed by ``httptools``: about a quarter of ``httpcore``'s CPU time per request (the
  numbers are in :mod:`.client`).
* ``httpcore`` (:mod:`.httpcore_transport`): HTTP/1.1 and HTTP/2 chosen by ALPN, and requests
  through an outbound proxy.

:func:`takes_fast_path` is the only place the choice is made. Both paths connect only to
addresses :class:`~authgate.egress.network.DestinationGuard` checked, and both hand back a
:class:`WireResponse` that the client reads the same way, so redirects, size and time bounds
and header checks do not depend on the path.
"""

from __future__ import annotations

from typing import Protocol

from authgate.egress.redirects import Hop

WireHeaders = list[tuple[bytes, bytes]]


class WireResponse(Protocol):
    """A response whose head has arrived and whose body is read in pieces."""

    @property
    def status(self) -> int:
        """The final status code (interim 1xx responses are skipped)."""
        ...

    @property
    def headers(self) -> WireHeaders:
        """The header fields as received (names in any case, values trimmed)."""
        ...

    @property
    def http_version(self) -> str:
        """``HTTP/1.1``, ``HTTP/1.0`` or ``HTTP/2``."""
        ...

    async def read_chunk(self) -> bytes:
        """The next body bytes (before content decoding), ``b""`` at the end."""
        ...

    async def aclose(self) -> None:
        """Release the connection: reused only if the body was read completely."""
        ...


class Transport(Protocol):
    """Sends one request and returns its response head; errors are egress errors."""

    async def open(self, hop: Hop, headers: WireHeaders) -> WireResponse:
        """Send ``hop`` with the complete ``headers`` (Host first) and await the head."""
        ...

    async def aclose(self) -> None:
        """Close every connection."""
        ...


def takes_fast_path(scheme: str, *, http2: bool, proxied: bool, enabled: bool = True) -> bool:
    """Whether a request to a URL of ``scheme`` is sent on the fast HTTP/1.1 path.

    Plain ``http://`` always is (HTTP/2 is only ever negotiated over TLS here), and
    ``https://`` is when HTTP/2 is off, so ALPN could only choose ``http/1.1`` anyway. With
    HTTP/2 on, ``https://`` goes to ``httpcore``, where ALPN may choose ``h2``. Everything
    goes to ``httpcore`` through an outbound proxy, or when the fast path is turned off.
    """
    if proxied or not enabled:
        return False
    return scheme == "http" or not http2
