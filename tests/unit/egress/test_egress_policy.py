"""The allow-list: internal hosts a deployment names explicitly."""

from __future__ import annotations

import ipaddress

import pytest

from authgate.egress.errors import ForbiddenDestination
from authgate.egress.policy import AddressPolicy


def _refusal(policy: AddressPolicy, host: str, *addresses: str) -> str:
    parsed = [ipaddress.ip_address(a) for a in addresses]
    with pytest.raises(ForbiddenDestination) as caught:
        policy.check_addresses(host, parsed) if parsed else policy.check_host(host)
    assert caught.value.status == 403
    assert caught.value.code == "egress_forbidden_destination"
    return caught.value.message


def test_entries_are_names_addresses_and_networks() -> None:
    policy = AddressPolicy.from_entries(["API.Internal.", "127.0.0.1", "[::1]", "10.1.0.0/16"])
    assert policy.allowed_names == frozenset({"api.internal"})
    assert set(map(str, policy.allowed_networks)) == {"127.0.0.1/32", "::1/128", "10.1.0.0/16"}


@pytest.mark.parametrize("entry", ["0x7f.1", "2130706433", "a b", "10.0.0.0/33", "fe80::1%eth0"])
def test_unusable_entries_are_refused_by_name(entry: str) -> None:
    with pytest.raises(ValueError, match="is not a"):
        AddressPolicy.from_entries([entry])


def test_without_an_allow_list_loopback_is_refused_in_every_form() -> None:
    policy = AddressPolicy()
    for host in ("127.0.0.1", "::1", "[::1]", "::ffff:127.0.0.1", "0x7f.1", "2130706433"):
        assert host.strip("[]") in _refusal(policy, host)


def test_allowed_addresses_and_networks_pass() -> None:
    policy = AddressPolicy.from_entries(["127.0.0.1", "10.1.0.0/16"])
    assert policy.check_host("127.0.0.1") == ipaddress.IPv4Address("127.0.0.1")
    policy.check_addresses("db.internal", [ipaddress.ip_address("10.1.2.3")])
    assert "10.2.0.1" in _refusal(policy, "other.internal", "10.1.2.3", "10.2.0.1")


def test_an_allowed_address_does_not_allow_its_other_spellings() -> None:
    policy = AddressPolicy.from_entries(["127.0.0.1"])
    assert "non-canonical" in _refusal(policy, "127.1")
    assert "::1" in _refusal(policy, "::1")


def test_localhost_names_are_refused_unless_named() -> None:
    assert "local machine" in _refusal(AddressPolicy(), "localhost")
    assert "local machine" in _refusal(AddressPolicy(), "app.LOCALHOST.")
    allowed = AddressPolicy.from_entries(["localhost"])
    assert allowed.check_host("localhost") == "localhost"
    assert allowed.allows_name("localhost")
    assert "local machine" in _refusal(allowed, "other.localhost")


def test_a_name_is_refused_when_any_of_its_addresses_is() -> None:
    policy = AddressPolicy()
    message = _refusal(policy, "rebind.example", "8.8.8.8", "169.254.169.254")
    assert "rebind.example" in message
    assert "169.254.169.254" in message
    assert "cloud metadata" in message
    policy.check_addresses("dns.example", [ipaddress.ip_address("8.8.8.8")])


def test_a_long_host_is_cut_short_in_the_message() -> None:
    message = _refusal(AddressPolicy(), "a" * 300)
    assert "a" * 81 not in message
