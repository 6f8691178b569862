"""The address policy: which hosts and addresses upstream requests may reach."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authgate.egress.addresses import (
    HostRefused,
    address_refusal,
    classify_host,
    ends_in_number,
    parse_ipv4,
)

REFUSED_ADDRESSES = [
    "0.0.0.0",
    "0.1.2.3",
    "10.0.0.1",
    "10.255.255.255",
    "100.64.0.1",
    "100.127.255.254",
    "127.0.0.1",
    "127.255.255.254",
    "169.254.169.254",
    "169.254.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.0.0.8",
    "192.0.2.1",
    "192.88.99.1",
    "192.168.1.1",
    "198.18.0.1",
    "198.19.255.255",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "::127.0.0.1",
    "::8.8.8.8",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:7f00:1",
    "64:ff9b::127.0.0.1",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::8.8.8.8",
    "100::1",
    "2001::1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "2001:2::1",
    "2001:db8::1",
    "2002:7f00:1::1",
    "2002:a9fe:a9fe::1",
    "2002:c0a8:101::1",
    "3fff::1",
    "5f00::1",
    "fc00::1",
    "fd12:3456:789a::1",
    "fe80::1",
    "febf::1",
    "fec0::1",
    "ff02::1",
    "ff0e::1",
]

GLOBAL_ADDRESSES = [
    "1.1.1.1",
    "8.8.8.8",
    "93.184.216.34",
    "100.63.255.255",
    "100.128.0.1",
    "172.32.0.1",
    "198.20.0.1",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "64:ff9b::808:808",
    "2002:808:808::1",
]


@pytest.mark.parametrize("text", REFUSED_ADDRESSES)
def test_non_global_addresses_are_refused_with_a_named_rule(text: str) -> None:
    reason = address_refusal(ipaddress.ip_address(text))
    assert reason is not None
    assert len(reason) > 5


@pytest.mark.parametrize("text", GLOBAL_ADDRESSES)
def test_globally_routable_addresses_are_allowed(text: str) -> None:
    assert address_refusal(ipaddress.ip_address(text)) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "cloud metadata"),
        ("100.64.1.1", "carrier-grade NAT"),
        ("::ffff:127.0.0.1", "IPv4-mapped form of 127.0.0.1, loopback"),
        ("64:ff9b::a9fe:a9fe", "NAT64 form of 169.254.169.254"),
        ("2002:c0a8:101::1", "6to4 form of 192.168.1.1"),
        ("fe80::1", "link-local"),
        ("fec0::1", "site-local"),
    ],
)
def test_the_refusal_names_the_rule(text: str, words: str) -> None:
    assert words in (address_refusal(ipaddress.ip_address(text)) or "")


def test_teredo_embedding_of_a_refused_client_is_named() -> None:
    # Teredo stores the client address inverted: ~127.0.0.1 == 0x80fffffe.
    reason = address_refusal(ipaddress.ip_address("2001:0:808:808::80ff:fffe"))
    assert reason is not None
    assert "Teredo client form of 127.0.0.1" in reason


def test_a_scoped_ipv6_address_is_refused() -> None:
    assert address_refusal(ipaddress.IPv6Address("2606:4700::1%eth0")) == (
        "scoped address (zone id)"
    )


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0x7f.0x0.0x0.0x1", "127.0.0.1"),
        ("00000177.0.0.01", "127.0.0.1"),
        ("0xA9FEA9FE", "169.254.169.254"),
        ("2852039166", "169.254.169.254"),
        ("169.254.43518", "169.254.169.254"),
        ("0", "0.0.0.0"),
        ("0x", "0.0.0.0"),
        ("10.1", "10.0.0.1"),
        ("3232235777", "192.168.1.1"),
        ("8.8.8.8", "8.8.8.8"),
    ],
)
def test_every_whatwg_ipv4_spelling_is_recognised(spelling: str, address: str) -> None:
    assert ends_in_number(spelling.lower())
    assert parse_ipv4(spelling.lower()) == ipaddress.IPv4Address(address)


@pytest.mark.parametrize(
    "spelling",
    [
        "2130706433",
        "0177.0.0.1",
        "0x7f.1",
        "127.1",
        "127.0.0.1.",
        "0x7F000001",
        "127.000.000.001",
        "010.8.8.8",
        "0x8.8.8.8",
        "134744072",
    ],
)
def test_non_canonical_numeric_hosts_are_refused_even_when_global(spelling: str) -> None:
    with pytest.raises(HostRefused) as caught:
        classify_host(spelling)
    assert "non-canonical spelling" in caught.value.rule


@pytest.mark.parametrize(
    ("host", "rule"),
    [
        ("1.2.3.4.5", "numeric host that is not an IPv4 address"),
        ("256.0.0.1", "numeric host that is not an IPv4 address"),
        ("4294967296", "numeric host that is not an IPv4 address"),
        ("09.1.1.1", "numeric host that is not an IPv4 address"),
        ("example.123", "numeric host that is not an IPv4 address"),
        ("fe80::1%eth0", "IPv6 address with a zone id"),
        ("[fe80::1%25eth0]", "IPv6 address with a zone id"),
        ("::1::2", "not a valid IPv6 address"),
        ("127%2e0%2e0%2e1", "not a valid host name"),
        ("a b", "not a valid host name"),
        ("exa mple.com", "not a valid host name"),
        ("evil.com\r\nx", "not a valid host name"),
        ("a..b", "not a valid host name"),
        ("-" * 64 + ".com", "not a valid host name"),
        ("", "not a host name or address"),
        ("a" * 300, "not a host name or address"),
    ],
)
def test_hosts_that_are_neither_address_nor_name_are_refused(host: str, rule: str) -> None:
    with pytest.raises(HostRefused) as caught:
        classify_host(host)
    assert caught.value.rule == rule


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", ipaddress.IPv4Address("127.0.0.1")),
        ("[::1]", ipaddress.IPv6Address("::1")),
        ("::ffff:127.0.0.1", ipaddress.IPv6Address("::ffff:7f00:1")),
        ("0:0:0:0:0:0:0:1", ipaddress.IPv6Address("::1")),
        ("Example.COM.", "example.com"),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        ("0x7f.example", "0x7f.example"),
        ("localhost", "localhost"),
    ],
)
def test_hosts_are_classified(host: str, expected: object) -> None:
    assert classify_host(host) == expected


def _inet_aton(text: str) -> ipaddress.IPv4Address | None:
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        return None


@pytest.mark.parametrize("spelling", ["0177.1", "0x7f.0.1", "2130706433", "127.1", "0x7f000001"])
def test_the_parser_agrees_with_the_c_library_on_what_it_connects_to(spelling: str) -> None:
    # glibc's inet_aton reads these spellings too: refusing them closes that back door.
    assert parse_ipv4(spelling) == _inet_aton(spelling)


_HOST_ALPHABET = st.sampled_from([*"0123456789abcdefxX.:[]%-_ ", "0x", "::", "ffff"])


@given(st.text(max_size=80))
def test_random_strings_never_crash_the_host_parser(text: str) -> None:
    try:
        result: object = classify_host(text)
    except HostRefused as exc:
        result = exc.rule
    assert isinstance(result, str | ipaddress.IPv4Address | ipaddress.IPv6Address)
    assert result


@given(st.lists(_HOST_ALPHABET, max_size=24).map("".join))
def test_no_spelling_reaches_a_non_global_address(text: str) -> None:
    try:
        result = classify_host(text)
    except HostRefused:
        return
    if isinstance(result, str):
        # A name: never something a C library would read as a number.
        assert not ends_in_number(result)
        assert _inet_aton(result) is None
        return
    if not result.is_global:
        assert address_refusal(result) is not None


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_every_ipv4_address_is_refused_unless_ipaddress_calls_it_global(value: int) -> None:
    address = ipaddress.IPv4Address(value)
    if not address.is_global:
        assert address_refusal(address) is not None


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_every_ipv6_address_is_refused_unless_ipaddress_calls_it_global(value: int) -> None:
    address = ipaddress.IPv6Address(value)
    if not address.is_global:
        assert address_refusal(address) is not None


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_ipv6_embeddings_of_refused_ipv4_are_refused(value: int) -> None:
    inner = ipaddress.IPv4Address(value)
    if address_refusal(inner) is None:
        return
    for prefix in ("::ffff:0:0", "64:ff9b::", "::"):
        embedded = ipaddress.IPv6Address(int(ipaddress.IPv6Address(prefix)) | value)
        assert address_refusal(embedded) is not None
    six_to_four = ipaddress.IPv6Address((0x2002 << 112) | (value << 80))
    assert address_refusal(six_to_four) is not None


@given(st.integers(min_value=0, max_value=2**32 - 1), st.sampled_from(["d", "o", "x", "mixed"]))
def test_any_spelling_of_an_address_parses_to_it(value: int, style: str) -> None:
    octets = ipaddress.IPv4Address(value).packed
    if style == "d":
        spelling = str(value)
    elif style == "o":
        spelling = ".".join(f"0{octet:o}" for octet in octets)
    elif style == "x":
        spelling = f"0x{value:x}"
    else:
        spelling = f"0x{octets[0]:x}.0{octets[1]:o}.{octets[2] * 256 + octets[3]}"
    assert parse_ipv4(spelling) == ipaddress.IPv4Address(value)
    assert parse_ipv4(spelling) == _inet_aton(spelling)
