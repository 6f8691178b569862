"""Which hosts and addresses an upstream request may reach (pure; no I/O).

An address is allowed only when it is globally routable: the special-purpose registries of
RFC 6890 (IPv4, §2.2.2; IPv6, §2.2.3) with their later additions, minus nothing. IPv6
addresses that embed an IPv4 address (IPv4-mapped, RFC 4291 §2.5.5.2; NAT64, RFC 6052 §2.1;
6to4, RFC 3056 §2; Teredo, RFC 4380 §4) are refused when the embedded address is.

URL hosts are read the way a WHATWG URL parser reads them (URL Standard, "IPv4 parser"), so
``2130706433``, ``0177.0.0.1``, ``0x7f.1`` and ``127.1`` are all recognised as 127.0.0.1. Only
the canonical dotted-quad spelling is accepted: every other numeric spelling is refused
outright, because resolvers, proxies and libraries disagree on what such a host means.
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network

IPAddress = IPv4Address | IPv6Address

MAX_HOST_LENGTH = 253
MAX_LABEL_LENGTH = 63
_MAX_NUMBER_LENGTH = 48  # longer numeric parts are refused before int() sees them
_DIGITS = frozenset("0123456789")
_OCTAL = frozenset("01234567")
_HEX = frozenset("0123456789abcdefABCDEF")
_LABEL_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


class HostRefused(ValueError):
    """A host is not one requests may go to; ``rule`` says why (safe to show)."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


def _table(*rows: tuple[str, str]) -> tuple[tuple[IPv4Network | IPv6Network, str], ...]:
    return tuple((ip_network(network), rule) for network, rule in rows)


_REFUSED_IPV4 = _table(
    ("255.255.255.255/32", "limited broadcast (255.255.255.255)"),
    ("0.0.0.0/8", "'this network' (0.0.0.0/8)"),
    ("10.0.0.0/8", "private (10.0.0.0/8)"),
    ("100.64.0.0/10", "carrier-grade NAT (100.64.0.0/10)"),
    ("127.0.0.0/8", "loopback (127.0.0.0/8)"),
    ("169.254.0.0/16", "link-local, incl. cloud metadata (169.254.0.0/16)"),
    ("172.16.0.0/12", "private (172.16.0.0/12)"),
    ("192.0.0.0/24", "IETF protocol assignments (192.0.0.0/24)"),
    ("192.0.2.0/24", "documentation (192.0.2.0/24)"),
    ("192.88.99.0/24", "6to4 relay anycast (192.88.99.0/24)"),
    ("192.168.0.0/16", "private (192.168.0.0/16)"),
    ("198.18.0.0/15", "benchmarking (198.18.0.0/15)"),
    ("198.51.100.0/24", "documentation (198.51.100.0/24)"),
    ("203.0.113.0/24", "documentation (203.0.113.0/24)"),
    ("224.0.0.0/4", "multicast (224.0.0.0/4)"),
    ("240.0.0.0/4", "reserved (240.0.0.0/4)"),
)

_REFUSED_IPV6 = _table(
    ("::/128", "unspecified (::)"),
    ("::1/128", "loopback (::1)"),
    ("::/96", "IPv4-compatible, deprecated (::/96)"),
    ("64:ff9b:1::/48", "local-use NAT64 (64:ff9b:1::/48)"),
    ("100::/64", "discard-only (100::/64)"),
    ("2001::/32", "Teredo (2001::/32)"),
    ("2001::/23", "IETF protocol assignments (2001::/23)"),
    ("2001:db8::/32", "documentation (2001:db8::/32)"),
    ("3fff::/20", "documentation (3fff::/20)"),
    ("5f00::/16", "segment routing (5f00::/16)"),
    ("fc00::/7", "unique local, private (fc00::/7)"),
    ("fe80::/10", "link-local (fe80::/10)"),
    ("fec0::/10", "site-local, deprecated (fec0::/10)"),
    ("ff00::/8", "multicast (ff00::/8)"),
)

_NAT64 = IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = IPv6Network("::/96")


def _embedded_ipv4(address: IPv6Address) -> list[tuple[str, IPv4Address]]:
    """The IPv4 addresses an IPv6 address carries, with the name of the embedding."""
    found: list[tuple[str, IPv4Address]] = []
    if address.ipv4_mapped is not None:
        found.append(("IPv4-mapped", address.ipv4_mapped))
    if address in _NAT64:
        found.append(("NAT64", IPv4Address(int(address) & 0xFFFFFFFF)))
    if address in _IPV4_COMPATIBLE and int(address) > 1:
        found.append(("IPv4-compatible", IPv4Address(int(address) & 0xFFFFFFFF)))
    if address.sixtofour is not None:
        found.append(("6to4", address.sixtofour))
    if address.teredo is not None:
        server, client = address.teredo
        found.extend([("Teredo server", server), ("Teredo client", client)])
    return found


def address_refusal(address: IPAddress) -> str | None:
    """Why ``address`` may not be reached, or ``None`` when it is globally routable."""
    if isinstance(address, IPv6Address):
        if address.scope_id:
            return "scoped address (zone id)"
        for embedding, inner in _embedded_ipv4(address):
            reason = address_refusal(inner)
            if reason is not None:
                return f"{embedding} form of {inner}, {reason}"
        table = _REFUSED_IPV6
    else:
        table = _REFUSED_IPV4
    for network, rule in table:
        if address in network:
            return rule
    # The tables are the rules we name; the standard library's registry catches the rest.
    if not address.is_global:
        return "not globally routable"
    return None


def _is_number(part: str) -> bool:
    """Whether a host's last label makes the whole host an IPv4 address (URL Standard)."""
    if part and set(part) <= _DIGITS:
        return True
    return part[:2] in ("0x", "0X") and set(part[2:]) <= _HEX


def _ipv4_number(part: str) -> int | None:
    """One part of a WHATWG IPv4 host: decimal, ``0``-prefixed octal or ``0x`` hex."""
    if not part or len(part) > _MAX_NUMBER_LENGTH:
        return None
    digits, radix, allowed = part, 10, _DIGITS
    if part[:2] in ("0x", "0X"):
        digits, radix, allowed = part[2:], 16, _HEX
    elif len(part) > 1 and part[0] == "0":
        digits, radix, allowed = part[1:], 8, _OCTAL
    if not digits:
        return 0
    if not set(digits) <= allowed:
        return None
    return int(digits, radix)


def parse_ipv4(host: str) -> IPv4Address | None:
    """The IPv4 address a URL host spells in any WHATWG form, or ``None`` if it spells none."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if len(parts) > 4:
        return None
    numbers = [_ipv4_number(part) for part in parts]
    values = [number for number in numbers if number is not None]
    if len(values) != len(numbers) or any(value > 255 for value in values[:-1]):
        return None
    if values[-1] >= 256 ** (5 - len(values)):
        return None
    total = values[-1]
    for index, value in enumerate(values[:-1]):
        total += value * 256 ** (3 - index)
    return IPv4Address(total)


def ends_in_number(host: str) -> bool:
    """Whether a URL parser must read ``host`` as an IPv4 address (URL Standard)."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return _is_number(parts[-1])


@lru_cache(maxsize=4096)  # pure and called for every request; host names are not secret
def classify_host(host: str) -> IPAddress | str:
    """A URL host as an IP address or a lower-case DNS name (no trailing dot).

    Raises :class:`HostRefused` for a host no request may name: a non-canonical numeric
    spelling, an IPv6 zone id, or a string that is neither an address nor a host name.
    """
    if not host or len(host) > MAX_HOST_LENGTH + 2:
        raise HostRefused("not a host name or address")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        if "%" in host:
            raise HostRefused("IPv6 address with a zone id")
        try:
            return IPv6Address(host)
        except ValueError:
            raise HostRefused("not a valid IPv6 address") from None
    lowered = host.lower()
    if ends_in_number(lowered):
        address = parse_ipv4(lowered)
        if address is None:
            raise HostRefused("numeric host that is not an IPv4 address")
        if str(address) != lowered:
            raise HostRefused(f"non-canonical spelling of the IPv4 address {address}")
        return address
    name = lowered.removesuffix(".")
    labels = name.split(".")
    if len(name) > MAX_HOST_LENGTH or not all(
        0 < len(label) <= MAX_LABEL_LENGTH and set(label) <= _LABEL_CHARACTERS for label in labels
    ):
        raise HostRefused("not a valid host name")
    return name


def is_localhost_name(name: str) -> bool:
    """Whether a DNS name is reserved for the local machine (RFC 6761 §6.3)."""
    return name == "localhost" or name.endswith(".localhost")
