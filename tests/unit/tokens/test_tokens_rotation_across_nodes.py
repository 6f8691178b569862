"""Two nodes share one key store: a key rotated in by one is accepted at once by the other."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from authgate.crypto.sealing import Sealer
from authgate.errors import ConfigurationError
from authgate.tokens.access import AccessTokens
from authgate.tokens.jws import UnknownSigningKey
from authgate.tokens.keyring import Keyring
from authgate.tokens.models import SigningKey
from authgate.tokens.signing_keys import SigningKeyManager

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class SharedKeys:
    """The one stored set of signing keys both nodes read."""

    def __init__(self) -> None:
        self.keys: dict[str, SigningKey] = {}
        self.reads = 0

    async def add(self, key: SigningKey) -> None:
        self.keys[key.kid] = key

    async def list(self) -> list[SigningKey]:
        self.reads += 1
        return sorted(self.keys.values(), key=lambda k: k.created_at, reverse=True)

    async def retire(self, kid: str, at: datetime) -> None:
        self.keys[kid] = replace(self.keys[kid], retired_at=at)

    async def delete(self, kid: str) -> None:
        self.keys.pop(kid, None)


class Clocks:
    """Wall clock and monotonic clock, moved together by the test."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wall(self) -> datetime:
        return NOW + timedelta(seconds=self.seconds)

    def monotonic(self) -> float:
        return self.seconds


def node(
    store: SharedKeys, sealer: Sealer, clocks: Clocks, activation_delay: int = 0
) -> tuple[SigningKeyManager, AccessTokens]:
    keyring = Keyring()
    manager = SigningKeyManager(
        store,
        sealer,
        keyring,
        clocks.wall,
        publish_after_retire=1200,
        activation_delay=activation_delay,
        monotonic=clocks.monotonic,
    )
    access = AccessTokens(
        issuer="https://id.example",
        audience="authgate",
        ttl=900,
        keyring=keyring,
        clock=lambda: NOW,
        on_unknown_key=manager.reload_if_stale,
    )
    return manager, access


def jws_kid(token: str) -> str:
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    return str(header["kid"])


def issue(access: AccessTokens) -> str:
    return access.issue(
        subject="u", org_id="o", roles=("USER",), client_id="c", scope="openid", session_id="s"
    )


async def test_a_token_signed_with_a_key_rotated_elsewhere_verifies_after_one_reload() -> None:
    store, sealer, clocks = SharedKeys(), Sealer(os.urandom(32)), Clocks()
    manager_a, access_a = node(store, sealer, clocks)
    manager_b, access_b = node(store, sealer, clocks)
    await manager_a.ensure_key()
    await manager_b.reload()
    clocks.seconds += 10
    new_kid = (await manager_a.rotate())["EdDSA"]  # B has not reloaded since
    token = issue(access_a)
    assert jws_kid(token) == new_kid

    with pytest.raises(UnknownSigningKey):
        access_b.verify(token)  # the plain check does not touch the store
    claims = await access_b.verify_current(token)
    assert claims.subject == "u"
    assert access_b.verify(token).subject == "u"  # B now holds the new key


async def test_a_flood_of_unknown_key_ids_costs_one_store_read_per_interval() -> None:
    store, sealer, clocks = SharedKeys(), Sealer(os.urandom(32)), Clocks()
    manager_a, access_a = node(store, sealer, clocks)
    _, access_b = node(store, sealer, clocks)
    await manager_a.ensure_key()
    stranger, stranger_access = node(SharedKeys(), Sealer(os.urandom(32)), clocks)
    await stranger.ensure_key()
    forged = issue(stranger_access)

    reads_before = store.reads
    for _ in range(50):
        with pytest.raises(UnknownSigningKey):
            await access_b.verify_current(forged)
    assert store.reads - reads_before == 1
    del access_a


async def test_a_rotated_key_is_published_everywhere_before_any_node_signs_with_it() -> None:
    store, sealer, clocks = SharedKeys(), Sealer(os.urandom(32)), Clocks()
    manager_a, access_a = node(store, sealer, clocks, activation_delay=40)
    manager_b, access_b = node(store, sealer, clocks, activation_delay=40)
    await manager_a.ensure_key()
    clocks.seconds += 3600
    await manager_a.reload()
    old_token = issue(access_a)
    old_kid = jws_kid(old_token)
    rotated = await manager_a.rotate()
    new_kid = rotated["EdDSA"]
    # Published at once, but A keeps signing with the old key until the delay has passed.
    assert jws_kid(issue(access_a)) == old_kid
    await manager_b.reload()  # B's periodic reload, well within the delay
    published = {k["kid"] for k in access_b._keyring.jwks()["keys"]}
    assert {old_kid, new_kid, rotated["RS256"]} <= published
    clocks.seconds += 41
    await manager_a.reload()
    token = issue(access_a)
    assert jws_kid(token) == new_kid
    assert access_b.verify(token).subject == "u"  # no reload needed at B
    assert access_b.verify(old_token).subject == "u"  # and the old key's tokens live on


async def test_a_node_with_another_root_key_stops_with_a_message_that_names_the_fix() -> None:
    store, clocks = SharedKeys(), Clocks()
    manager, _ = node(store, Sealer(os.urandom(32)), clocks)
    await manager.ensure_key()
    stranger, _ = node(store, Sealer(os.urandom(32)), clocks)
    with pytest.raises(ConfigurationError, match="AUTHGATE_SECRET_KEY") as caught:
        await stranger.reload()
    assert "root key" in caught.value.message


async def test_token_ids_are_unique_within_and_across_nodes() -> None:
    store, sealer, clocks = SharedKeys(), Sealer(os.urandom(32)), Clocks()
    manager, access_a = node(store, sealer, clocks)
    await manager.ensure_key()
    manager_b, access_b = node(store, sealer, clocks)
    await manager_b.reload()
    ids = [access.verify(issue(access)).token_id for access in (access_a, access_b) * 500]
    assert len(set(ids)) == 1000
