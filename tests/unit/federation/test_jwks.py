"""The IdP key cache: fetched on first use and on age, one rate-limited refetch for an
unknown kid, one fetch for many concurrent callers, old keys kept when a refetch fails, and
only usable signing keys taken from a set."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import ECKey, OctKey, RSAKey

from authgate.federation.errors import IdpUnavailable
from authgate.federation.jwks import JwksCache, parse_jwks

URI = "https://idp.example/jwks"


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


START = datetime(2030, 1, 1, tzinfo=UTC)


def public(key: RSAKey | ECKey, **extra: Any) -> dict[str, Any]:
    return {**key.as_dict(private=False), **extra}


class Keys:
    """What the IdP publishes, and how often it was asked."""

    def __init__(self, *keys: dict[str, Any]) -> None:
        self.keys = list(keys)
        self.fetches = 0
        self.failing = False
        self.now = START

    def clock(self) -> datetime:
        return self.now

    async def fetch(self, uri: str) -> Mapping[str, Any]:
        assert uri == URI
        self.fetches += 1
        await asyncio.sleep(0)
        if self.failing:
            raise IdpUnavailable("the IdP's JWK set could not be used")
        return {"keys": list(self.keys)}


K1 = RSAKey.generate_key(2048, parameters={"kid": "k1"})
K2 = RSAKey.generate_key(2048, parameters={"kid": "k2"})


async def test_keys_are_fetched_once_and_again_when_old() -> None:
    idp = Keys(public(K1, kid="k1", alg="RS256"))
    cache = JwksCache(idp.fetch, idp.clock)

    assert await cache.key(URI, "k1", "RS256") is not None
    assert await cache.key(URI, "k1", "RS256") is not None
    assert idp.fetches == 1
    idp.now += timedelta(hours=1, seconds=1)
    assert await cache.key(URI, "k1", "RS256") is not None
    assert idp.fetches == 2


async def test_an_unknown_kid_refetches_at_most_once_a_minute() -> None:
    idp = Keys(public(K1, kid="k1"))
    cache = JwksCache(idp.fetch, idp.clock)
    await cache.key(URI, "k1", "RS256")

    assert await cache.key(URI, "k2", "RS256") is None  # fetched just now: not again
    assert idp.fetches == 1
    idp.keys.append(public(K2, kid="k2"))
    idp.now += timedelta(seconds=60)
    assert await cache.key(URI, "k2", "RS256") is not None
    assert idp.fetches == 2
    for kid in ("x1", "x2", "x3"):
        assert await cache.key(URI, kid, "RS256") is None
    assert idp.fetches == 2


async def test_concurrent_callers_share_one_fetch() -> None:
    idp = Keys(public(K1, kid="k1"))
    cache = JwksCache(idp.fetch, idp.clock)

    found = await asyncio.gather(*(cache.key(URI, "k1", "RS256") for _ in range(20)))

    assert all(key is not None for key in found)
    assert idp.fetches == 1


async def test_a_failed_refetch_keeps_the_keys_held() -> None:
    idp = Keys(public(K1, kid="k1"))
    cache = JwksCache(idp.fetch, idp.clock)
    await cache.key(URI, "k1", "RS256")
    idp.failing = True
    idp.now += timedelta(hours=2)

    assert await cache.key(URI, "k1", "RS256") is not None
    fresh = JwksCache(idp.fetch, idp.clock)
    with pytest.raises(IdpUnavailable):
        await fresh.key(URI, "k1", "RS256")


async def test_without_a_kid_only_an_unambiguous_key_is_chosen() -> None:
    one = Keys(public(K1))
    assert await JwksCache(one.fetch, one.clock).key(URI, None, "RS256") is not None
    two = Keys(public(K1, kid="k1"), public(K2, kid="k2"))
    assert await JwksCache(two.fetch, two.clock).key(URI, None, "RS256") is None


def test_only_usable_signing_keys_are_taken() -> None:
    numbers = rsa.generate_private_key(65537, 1024).public_key().public_numbers()
    weak = {"kty": "RSA", "n": _b64(numbers.n), "e": _b64(numbers.e)}
    ec = ECKey.generate_key("P-256", parameters={"kid": "ec"})
    entries = [
        public(K1, kid="sig", use="sig", alg="RS256"),
        public(K2, kid="enc", use="enc"),
        {**K1.as_dict(private=True), "kid": "private"},
        {**weak, "kid": "weak"},
        {**OctKey.generate_key(256).as_dict(), "kid": "oct"},
        {"kty": "RSA", "kid": "broken", "n": "AQAB", "e": "!!"},
        {"kty": "RSA", "kid": 7, "n": "x", "e": "AQAB"},
        "not an object",
        public(ec, kid="ec"),
    ]

    parsed = parse_jwks({"keys": entries}, START)

    assert [kid for kid, _, _ in parsed.keys] == ["sig", "ec"]
    assert parsed.find("sig", "RS256") is not None
    assert parsed.find("sig", "ES256") is None  # an RSA key never verifies ES256
    assert parsed.find("ec", "ES256") is not None
    with pytest.raises(IdpUnavailable):
        parse_jwks({"keys": "none"}, START)
