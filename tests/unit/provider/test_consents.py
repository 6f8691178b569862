"""Consents on a real SQLite store: what covers a request, what remembering adds, and who
may list and revoke."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from authgate.crypto.keyed_hash import KeyedHasher
from authgate.crypto.passwords import Argon2Hasher
from authgate.crypto.randomness import new_id
from authgate.errors import Forbidden, NotFound, Unauthenticated
from authgate.identity.deps import Actor, IdentityDeps
from authgate.identity.models import DomainJoin, Membership, Organization, Role, User
from authgate.mail.outbox import FileOutboxMailer
from authgate.provider.consents import ConsentService
from authgate.provider.models import (
    ApplicationType,
    AuthMethod,
    ClientType,
    GrantType,
    OAuthClient,
)
from authgate.store import SqlStore, open_store
from authgate.store.oauth_clients import SqlClientRepository

START = datetime(2030, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    store: SqlStore
    clock: Clock
    service: ConsentService
    org: Organization
    members: dict[Role, Actor]
    app: OAuthClient

    async def audit(self, action: str) -> list[dict[str, object]]:
        events = await self.store.audit.list(self.org.id, limit=100)
        return [
            {"actor": e.actor_id, "subject": e.subject, **e.details}
            for e in reversed(events)
            if e.action == action
        ]


async def add_org(store: SqlStore, slug: str) -> tuple[Organization, dict[Role, Actor]]:
    org = Organization(new_id(), slug, slug, (), DomainJoin.MANUAL, None, START)
    await store.orgs.create(org)
    members = {}
    for role in Role:
        user = User(
            new_id(), f"{role.value.lower()}@{slug}.test", role.value, None, False, True, START
        )
        await store.users.create(user)
        await store.memberships.put(Membership(org.id, user.id, role, START))
        members[role] = Actor(user.id, "192.0.2.1")
    return org, members


async def add_app(store: SqlStore, org: Organization) -> OAuthClient:
    app = OAuthClient(
        client_id="app_" + new_id(),
        org_id=org.id,
        name="Notes",
        client_type=ClientType.PUBLIC,
        application_type=ApplicationType.NATIVE,
        redirect_uris=("http://127.0.0.1/cb",),
        post_logout_redirect_uris=(),
        grant_types=(GrantType.AUTHORIZATION_CODE,),
        scopes=("openid", "email", "profile"),
        token_endpoint_auth_method=AuthMethod.NONE,
        id_token_signed_response_alg="EdDSA",
        secret_hash=None,
        logo_uri=None,
        created_at=START,
        updated_at=START,
    )
    await SqlClientRepository(store.db).create(app)
    return app


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'consents.db'}", migrate=True)
    hasher = Argon2Hasher(memory_kib=19 * 1024, time_cost=2, max_workers=1)
    clock = Clock()
    deps = IdentityDeps(
        store=store,
        hasher=hasher,
        mailer=FileOutboxMailer(tmp_path / "outbox"),
        keyed=KeyedHasher(bytes(32)),
        sessions=store.refresh_tokens,
        clock=clock,
        public_url="https://id.example.com",
        invite_ttl=3600,
        verification_ttl=3600,
        reset_ttl=3600,
    )
    try:
        org, members = await add_org(store, "acme")
        app = await add_app(store, org)
        service = ConsentService(deps, store.consents, SqlClientRepository(store.db))
        yield World(store, clock, service, org, members, app)
    finally:
        await store.close()
        hasher.close()


def user_id(world: World, role: Role = Role.USER) -> str:
    found = world.members[role].user_id
    assert found is not None
    return found


async def test_a_consent_covers_only_what_was_allowed(world: World) -> None:
    person = user_id(world)
    assert not await world.service.covers(person, world.app.client_id, "openid")

    await world.service.remember(person, world.app, "openid email")

    for covered in ("openid", "email openid", "email", ""):
        assert await world.service.covers(person, world.app.client_id, covered)
    assert not await world.service.covers(person, world.app.client_id, "openid profile")
    assert not await world.service.covers(user_id(world, Role.MAKER), world.app.client_id, "openid")


async def test_remembering_adds_to_what_was_allowed_before(world: World) -> None:
    person = user_id(world)
    await world.service.remember(person, world.app, "openid email")
    world.clock.now += timedelta(hours=1)

    await world.service.remember(person, world.app, "profile openid")

    consent = await world.store.consents.get(person, world.app.client_id)
    assert consent is not None
    assert (consent.scope, consent.created_at, consent.updated_at) == (
        "email openid profile",
        START,
        START + timedelta(hours=1),
    )
    assert await world.audit("consent.grant") == [
        {"actor": person, "subject": person, "client_id": world.app.client_id, "scope": s}
        for s in ("email openid", "email openid profile")
    ]


async def test_a_person_revokes_only_their_own_consent(world: World) -> None:
    person, other = user_id(world), user_id(world, Role.MAKER)
    for each in (person, other):
        await world.service.remember(each, world.app, "openid")
    actor = world.members[Role.USER]

    await world.service.revoke_mine(world.app.client_id, actor)

    assert not await world.service.covers(person, world.app.client_id, "openid")
    assert await world.service.covers(other, world.app.client_id, "openid")
    assert [c.client_id for c, _ in await world.service.list_mine(actor)] == []
    with pytest.raises(NotFound):
        await world.service.revoke_mine(world.app.client_id, actor)
    with pytest.raises(Unauthenticated):
        await world.service.list_mine(Actor(None))
    assert await world.audit("consent.revoke") == [
        {"actor": person, "subject": person, "client_id": world.app.client_id}
    ]


async def test_only_the_apps_organization_admins_see_and_revoke_its_grants(world: World) -> None:
    person = user_id(world)
    await world.service.remember(person, world.app, "openid")
    other_org, strangers = await add_org(world.store, "other")
    own_app_elsewhere = await add_app(world.store, other_org)
    app_id = world.app.client_id

    for role in (Role.MAKER, Role.USER):
        with pytest.raises(Forbidden):
            await world.service.list_for_client("acme", app_id, world.members[role])
        with pytest.raises(Forbidden):
            await world.service.revoke_for_client("acme", app_id, person, world.members[role])
    for slug, client_id, actor in (
        ("acme", app_id, strangers[Role.OWNER]),  # another organization's admin
        ("other", app_id, strangers[Role.OWNER]),  # an app of another organization
        ("acme", own_app_elsewhere.client_id, world.members[Role.ADMIN]),
        ("acme", "unknown-app", world.members[Role.ADMIN]),
    ):
        with pytest.raises(NotFound):
            await world.service.list_for_client(slug, client_id, actor)
        with pytest.raises(NotFound):
            await world.service.revoke_for_client(slug, client_id, person, actor)

    admin = world.members[Role.ADMIN]
    grants = await world.service.list_for_client("acme", app_id, admin)
    assert [(c.scope, u.id) for c, u in grants] == [("openid", person)]
    with pytest.raises(NotFound):
        await world.service.revoke_for_client("acme", app_id, user_id(world, Role.MAKER), admin)

    await world.service.revoke_for_client("acme", app_id, person, admin)

    assert await world.service.list_for_client("acme", app_id, admin) == []
    assert await world.audit("consent.revoke") == [
        {"actor": admin.user_id, "subject": person, "client_id": app_id}
    ]
