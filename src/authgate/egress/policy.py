"""The address policy with a deployment's allow-list of internal hosts (pure; no I/O).

By default only globally routable addresses may be reached (see :mod:`.addresses`). A
deployment may name internal hosts that are allowed anyway: host names (``api.internal``,
matched exactly, case-insensitively) and addresses or networks (``127.0.0.1``, ``::1``,
``10.1.0.0/16``). A named host is trusted with whatever it resolves to; any other name is
allowed only when every address it resolves to is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network

from authgate.egress.addresses import (
    HostRefused,
    IPAddress,
    address_refusal,
    classify_host,
    is_localhost_name,
)
from authgate.egress.errors import ForbiddenDestination

IPNetwork = IPv4Network | IPv6Network
_SHOWN_HOST_LENGTH = 80


def shown(host: str) -> str:
    """A host as it may appear in a message: quoted, and cut short if very long."""
    if len(host) > _SHOWN_HOST_LENGTH:
        host = host[:_SHOWN_HOST_LENGTH] + "..."
    return repr(host)


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Globally routable addresses, plus the hosts and networks a deployment allows."""

    allowed_names: frozenset[str] = frozenset()
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> AddressPolicy:
        """Build from allow-list entries; raises ``ValueError`` naming a bad entry."""
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip()
            if "/" in entry:
                try:
                    networks.append(ip_network(entry.strip("[]"), strict=False))
                except ValueError:
                    raise ValueError(
                        f"{entry!r} is not a valid network such as 10.0.0.0/8"
                    ) from None
                continue
            try:
                host = classify_host(entry)
            except HostRefused as exc:
                raise ValueError(f"{entry!r} is not a usable host or address: {exc.rule}") from None
            if isinstance(host, str):
                names.add(host)
            else:
                networks.append(ip_network(host))
        return cls(allowed_names=frozenset(names), allowed_networks=tuple(networks))

    def allows_name(self, name: str) -> bool:
        """Whether a host name is on the allow-list (then its addresses are trusted)."""
        return name in self.allowed_names

    def check_host(self, host: str) -> IPAddress | str:
        """The host as an address or a name, or :class:`ForbiddenDestination`.

        An address is checked completely here; a name still needs :meth:`check_addresses`
        once it has been resolved, unless :meth:`allows_name` is true for it.
        """
        try:
            parsed = classify_host(host)
        except HostRefused as exc:
            raise ForbiddenDestination(
                f"refusing the host {shown(host)}: {exc.rule}; use its host name or its "
                "address in canonical form"
            ) from None
        if isinstance(parsed, str):
            if is_localhost_name(parsed) and not self.allows_name(parsed):
                raise ForbiddenDestination(
                    f"refusing the host {shown(parsed)}: a name of the local machine; name it "
                    "in egress_allowed_hosts to allow it"
                )
            return parsed
        self.check_addresses(host, [parsed])
        return parsed

    def check_addresses(self, host: str, addresses: Sequence[IPAddress]) -> None:
        """Refuse unless every address ``host`` resolved to may be reached."""
        for address in addresses:
            if any(address in network for network in self.allowed_networks):
                continue
            reason = address_refusal(address)
            if reason is not None:
                via = "" if str(address) == host else f" (it resolves to {address})"
                raise ForbiddenDestination(
                    f"refusing the host {shown(host)}{via}: {reason}; name it in "
                    "egress_allowed_hosts if this deployment must reach it"
                )
