"""A vault on a real SQLite store, with a clock the test moves and a fixed KEK."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest_asyncio

from authgate.crypto.envelope import Envelope, KeyEncryptionKey
from authgate.crypto.keyed_hash import KeyedHasher
from authgate.crypto.passwords import Argon2Hasher
from authgate.crypto.randomness import new_id
from authgate.identity.deps import Actor, IdentityDeps
from authgate.identity.models import DomainJoin, Membership, Organization, Role, User
from authgate.mail.outbox import FileOutboxMailer
from authgate.store import SqlStore, open_store
from authgate.vault.models import UsableCredential
from authgate.vault.service import VaultService

KEK = KeyEncryptionKey(bytes(range(32)))


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class World:
    """The store, the vault, a clock, and an organization with one member per role."""

    store: SqlStore
    deps: IdentityDeps
    vault: VaultService[UsableCredential]
    clock: Clock
    org: Organization
    members: dict[Role, Actor]

    @property
    def admin(self) -> Actor:
        return self.members[Role.ADMIN]

    async def audit(self, action: str) -> list[dict[str, object]]:
        events = await self.store.audit.list(self.org.id, limit=1000)
        return [
            {"subject": e.subject, "outcome": e.outcome, "actor": e.actor_id, **e.details}
            for e in reversed(events)
            if e.action == action
        ]


async def add_org(
    store: SqlStore, clock: Clock, slug: str
) -> tuple[Organization, dict[Role, Actor]]:
    org = Organization(new_id(), slug, slug, (), DomainJoin.MANUAL, None, clock())
    await store.orgs.create(org)
    members = {}
    for role in Role:
        user = User(
            new_id(), f"{role.value.lower()}@{slug}.test", role.value, None, False, True, clock()
        )
        await store.users.create(user)
        await store.memberships.put(Membership(org.id, user.id, role, clock()))
        members[role] = Actor(user.id, "192.0.2.1")
    return org, members


@asynccontextmanager
async def open_world(store: SqlStore, envelope: Envelope, outbox: Path) -> AsyncIterator[World]:
    """A world on ``store`` (closed afterwards) with an organization ``acme``."""
    hasher = Argon2Hasher(memory_kib=19 * 1024, time_cost=2, max_workers=1)
    clock = Clock()
    deps = IdentityDeps(
        store=store,
        hasher=hasher,
        mailer=FileOutboxMailer(outbox),
        keyed=KeyedHasher(bytes(32)),
        sessions=store.refresh_tokens,
        clock=clock,
        public_url="https://id.example.com",
        invite_ttl=3600,
        verification_ttl=3600,
        reset_ttl=3600,
    )
    try:
        existing = await store.orgs.get_by_slug("acme")
        if existing is None:
            org, members = await add_org(store, clock, "acme")
        else:
            org, members = existing, {}
        vault = VaultService(deps, store.vault, envelope, lambda found: found)
        yield World(store, deps, vault, clock, org, members)
    finally:
        await store.close()
        hasher.close()


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """A world on a new SQLite file, sealing under :data:`KEK`."""
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'vault.db'}", migrate=True)
    async with open_world(store, Envelope(KEK), tmp_path / "outbox") as built:
        yield built
