"""The IdP directory's caches: configurations by version, metadata for an hour, and a short
pause after an IdP's metadata could not be read (so that discovery and logins do not each
wait for an unreachable IdP)."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from authgate.crypto.envelope import Envelope, KeyEncryptionKey
from authgate.federation.directory import FAILURE_PAUSE, IdpDirectory
from authgate.federation.errors import IdpUnavailable
from authgate.federation.models import IdpConfig, IdpType
from authgate.federation.ports import FederationRepository, IdpClient

ISSUER = "https://idp.example"
START = datetime(2030, 1, 1, tzinfo=UTC)
ENVELOPE = Envelope(KeyEncryptionKey(secrets.token_bytes(32)))


class World:
    """One IdP in a repository, an IdP client that answers or fails, and a clock."""

    def __init__(self) -> None:
        self.now = START
        self.reads = 0
        self.fetches = 0
        self.failing = False
        self.idp = IdpConfig(
            id="idp-1", org_id="org-1", name="main", display_name="Main", type=IdpType.OIDC,
            issuer=ISSUER, client_id="c", device_client_id=None, scopes=("openid",), pkce=True,
            nonce=True, domains=("example.com",), tenants=(), endpoints=None, enabled=True,
            version=1, secret=ENVELOPE.seal(b"s", b"ctx"), secret_version=1, created_by=None,
            created_at=START, updated_at=START,
        )  # fmt: skip

    async def get_idp(self, idp_id: str) -> IdpConfig | None:
        self.reads += 1
        return self.idp if idp_id == self.idp.id else None

    async def fetch_json(self, url: str, what: str) -> dict[str, Any]:
        self.fetches += 1
        if self.failing:
            raise IdpUnavailable(f"the IdP's {what} could not be used")
        return {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/a",
            "token_endpoint": f"{ISSUER}/t",
            "jwks_uri": f"{ISSUER}/k",
        }

    def directory(self) -> IdpDirectory:
        return IdpDirectory(
            cast(FederationRepository, self), cast(IdpClient, self), ENVELOPE, lambda: self.now
        )


async def test_a_version_is_read_once_and_a_changed_one_not_at_all() -> None:
    world = World()
    directory = world.directory()

    assert await directory.version("idp-1", 1) == world.idp
    assert await directory.version("idp-1", 1) == world.idp
    assert world.reads == 1
    assert await directory.version("idp-1", 1, fresh=True) == world.idp
    assert world.reads == 2
    world.idp = replace(world.idp, version=2)
    assert await directory.version("idp-1", 1, fresh=True) is None
    assert await directory.version("idp-1", 3) is None
    world.idp = replace(world.idp, version=4, enabled=False)
    assert await directory.version("idp-1", 4) is None


async def test_metadata_is_cached_for_an_hour() -> None:
    world = World()
    directory = world.directory()

    await directory.metadata(world.idp)
    await directory.metadata(world.idp)
    assert world.fetches == 1
    world.now += timedelta(hours=1, seconds=1)
    await directory.metadata(world.idp)
    assert world.fetches == 2


async def test_an_unreadable_idp_is_not_asked_again_for_a_while() -> None:
    world = World()
    world.failing = True
    directory = world.directory()

    for _ in range(3):
        with pytest.raises(IdpUnavailable):
            await directory.metadata(world.idp)
    assert world.fetches == 1
    world.now += FAILURE_PAUSE
    world.failing = False
    assert (await directory.metadata(world.idp)).token_endpoint == f"{ISSUER}/t"
    assert world.fetches == 2
