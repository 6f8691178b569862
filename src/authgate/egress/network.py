"""Resolve once, check every address, connect to an address that was checked.

:class:`GuardedNetworkBackend` is the ``httpcore`` network backend of the egress client: every
new TCP connection goes through :meth:`DestinationGuard.addresses`, which resolves the host a
single time, refuses it if ANY of its addresses is refused, and hands back the checked
addresses. The backend then connects to those addresses, never to the name, so a DNS answer
that changes between the check and the connection (DNS rebinding) cannot redirect it. TLS
still verifies and sends SNI for the host name: ``httpcore`` passes the URL's host to
``start_tls`` independently of where the socket was connected.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any

import httpcore

from authgate.egress.addresses import IPAddress
from authgate.egress.errors import ForbiddenDestination, UpstreamUnreachable
from authgate.egress.policy import AddressPolicy, shown

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
"""Resolves a host name for a TCP port to its addresses (getaddrinfo; tests pass a table)."""


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address ``getaddrinfo`` gives for ``host``, in its order, without duplicates."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ip_address(sockaddr[0])
        if address not in found:
            found.append(address)
    return found


@dataclass(frozen=True, slots=True)
class DestinationGuard:
    """The address policy applied to a host, resolving its name once."""

    policy: AddressPolicy
    resolver: Resolver = system_resolver

    async def addresses(self, host: str, port: int) -> list[IPAddress]:
        """The checked addresses to connect to, or an egress error naming host and rule."""
        parsed = self.policy.check_host(host)
        if not isinstance(parsed, str):
            return [parsed]
        try:
            addresses = await self.resolver(parsed, port)
        except OSError:
            raise UpstreamUnreachable(
                f"the host {shown(parsed)} could not be resolved; check the function's URL"
            ) from None
        if not addresses:
            raise UpstreamUnreachable(f"the host {shown(parsed)} has no addresses")
        if not self.policy.allows_name(parsed):
            self.policy.check_addresses(parsed, addresses)
        return addresses


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to addresses the guard checked.

    ``trusted`` are ``(host, port)`` pairs connected to without a check: the deployment's
    outbound proxy, which is configuration, not a destination a function chose.
    """

    def __init__(
        self,
        guard: DestinationGuard,
        *,
        trusted: frozenset[tuple[str, int]] = frozenset(),
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._guard = guard
        self._trusted = trusted
        self._inner = inner if inner is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """A connection to the first checked address of ``host`` that accepts one."""
        if (host, port) in self._trusted:
            return await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        addresses = await self._guard.addresses(host, port)
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None  # addresses is never empty
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Never: upstreams are reached over TCP only."""
        raise ForbiddenDestination("refusing a Unix socket: upstreams are reached over TCP")

    async def sleep(self, seconds: float) -> None:
        """Wait (used by ``httpcore`` between connection retries)."""
        await self._inner.sleep(seconds)
