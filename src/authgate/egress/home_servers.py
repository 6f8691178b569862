"""The apps gateway's way out: forwarded requests sent by the egress client, streamed back."""

from __future__ import annotations

from authgate.egress.client import EgressClient, UpstreamStream
from authgate.functions.ports import UpstreamRequest
from authgate.signedfetch.forwarding import ForwardRequest


class EgressHomeServers:
    """:class:`authgate.signedfetch.ports.HomeServers` over the SSRF-safe egress client.

    The request may reach its home server's host only (the egress client's allow-list), the
    address policy applies as to every upstream, and a redirect is handed back, not followed.
    """

    def __init__(self, egress: EgressClient) -> None:
        self._egress = egress

    async def open(self, request: ForwardRequest, time_limit: float) -> UpstreamStream:
        """Send the request and return the answer's head."""
        upstream = UpstreamRequest(
            method=request.method,
            url=request.url,
            headers=request.headers,
            body=request.body,
            sensitive_headers=frozenset({"authorization"}),
            allowed_hosts=frozenset({request.host}),
        )
        return await self._egress.open_stream(upstream, time_limit=time_limit)
