"""Contract: the vault's credentials, versions and wrapped keys (SQLite and PostgreSQL)."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import select

from authgate.crypto.envelope import SealedSecret
from authgate.errors import Conflict
from authgate.identity.models import Organization, User
from authgate.store import SqlStore
from authgate.store.tables import organizations, vault_credentials, vault_secret_versions
from authgate.vault.models import (
    Connection,
    ConnectionStatus,
    Credential,
    CredentialKind,
    OAuthClientConfig,
    PendingAuthorization,
    SecretVersion,
    WrappedKeyRow,
)
from authgate.vault.ports import (
    ConnectionRepository,
    CredentialRepository,
    KeyRotationRepository,
)

from . import records
from .records import DAY, HOUR, NOW


def _credential(org_id: str, name: str = "crm.key", **kw: object) -> Credential:
    values: dict[str, object] = {
        "id": records.new_id("cred"),
        "org_id": org_id,
        "name": name,
        "kind": CredentialKind.API_KEY,
        "solution": None,
        "allowed_hosts": ("api.example.com", "10.0.0.1"),
        "device_usable": False,
        "description": "CRM key",
        "oauth": None,
        "created_by": None,
        "created_at": NOW,
        "updated_by": None,
        "updated_at": NOW,
        "version": 1,
    }
    values.update(kw)
    return Credential(**values)  # type: ignore[arg-type]


def _sealed(kek_id: str = "kek-a") -> SealedSecret:
    return SealedSecret(secrets.token_bytes(45), secrets.token_bytes(61), kek_id)


def _version(credential: Credential, at: datetime = NOW, kek_id: str = "kek-a") -> SecretVersion:
    return SecretVersion(credential.id, credential.version, _sealed(kek_id), at)


async def _stored_versions(store: SqlStore, credential_id: str) -> list[int]:
    async with store.db.connection(write=False) as conn:
        rows = await conn.execute(
            select(vault_secret_versions.c.version)
            .where(vault_secret_versions.c.credential_id == credential_id)
            .order_by(vault_secret_versions.c.version)
        )
        return [row.version for row in rows]


def test_the_store_satisfies_the_vault_ports(store: SqlStore) -> None:
    credentials: CredentialRepository = store.vault
    rotation: KeyRotationRepository = store.vault
    connections: ConnectionRepository = store.vault.connections
    assert connections is store.vault.connections
    assert credentials is store.vault
    assert rotation is store.vault


async def test_round_trip_of_every_field_and_the_exact_sealed_bytes(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    oauth = OAuthClientConfig(
        authorize_url="https://login.example.com/authorize",
        token_url="https://login.example.com/token",
        client_id="client-1",
        scopes=("openid", "offline_access"),
        pkce=False,
        extra_authorize_params=(("prompt", "consent"), ("tenant", "t1")),
    )
    credential = _credential(
        an_org.id,
        "crm.oauth",
        kind=CredentialKind.OAUTH_CLIENT,
        solution="sales",
        oauth=oauth,
        device_usable=True,
        created_by=a_user.id,
        updated_by=a_user.id,
    )
    version = _version(credential)
    await store.vault.create(credential, version)

    assert await store.vault.get(an_org.id, "crm.oauth", "sales") == credential
    assert await store.vault.get(an_org.id, "crm.oauth", None) is None
    assert await store.vault.find_current(an_org.id, "crm.oauth", "sales") == (credential, version)


async def test_a_name_is_unique_per_scope_only(store: SqlStore, an_org: Organization) -> None:
    org_wide = _credential(an_org.id)
    scoped = _credential(an_org.id, solution="sales")
    other_org = records.org()
    await store.orgs.create(other_org)
    for credential in (org_wide, scoped, _credential(other_org.id)):
        await store.vault.create(credential, _version(credential))

    duplicate = _credential(an_org.id, solution="sales")
    with pytest.raises(Conflict, match="already exists"):
        await store.vault.create(duplicate, _version(duplicate))
    assert await _stored_versions(store, duplicate.id) == []
    assert [c.id for c in await store.vault.list_for_org(an_org.id)] == [org_wide.id, scoped.id]


async def test_find_prefers_the_solution_scope_then_the_organization(
    store: SqlStore, an_org: Organization
) -> None:
    org_wide = _credential(an_org.id)
    scoped = _credential(an_org.id, solution="sales")
    foreign = records.org()
    await store.orgs.create(foreign)
    foreign_key = _credential(foreign.id, "other.key")
    for credential in (org_wide, scoped, foreign_key):
        await store.vault.create(credential, _version(credential))

    found = await store.vault.find_current(an_org.id, "crm.key", "sales")
    assert found is not None
    assert found[0].id == scoped.id
    found = await store.vault.find_current(an_org.id, "crm.key", "support")
    assert found is not None
    assert found[0].id == org_wide.id
    found = await store.vault.find_current(an_org.id, "crm.key", None)
    assert found is not None
    assert found[0].id == org_wide.id
    # Names never resolve across organizations.
    assert await store.vault.find_current(an_org.id, "other.key", None) is None
    assert await store.vault.find_current(foreign.id, "crm.key", "sales") is None


async def test_replace_makes_the_new_version_current_and_prunes_old_ones(
    store: SqlStore, an_org: Organization
) -> None:
    v1 = _credential(an_org.id)
    await store.vault.create(v1, _version(v1))
    v2 = replace(v1, version=2, description="rotated", updated_at=NOW + HOUR)
    second = _version(v2, NOW + HOUR)
    await store.vault.replace(v2, second, expected_version=1, prune_before=NOW)

    assert await store.vault.find_current(an_org.id, "crm.key", None) == (v2, second)
    assert await _stored_versions(store, v1.id) == [1, 2]  # v1 is in its grace period

    v3 = replace(v1, version=3, updated_at=NOW + DAY)
    third = _version(v3, NOW + DAY)
    await store.vault.replace(v3, third, expected_version=2, prune_before=NOW + 2 * HOUR)

    assert await _stored_versions(store, v1.id) == [2, 3]  # v1 left its grace period
    assert await store.vault.get(an_org.id, "crm.key", None) == v3


async def test_replace_is_compare_and_set_on_the_version(
    store: SqlStore, an_org: Organization
) -> None:
    v1 = _credential(an_org.id)
    await store.vault.create(v1, _version(v1))
    v2 = replace(v1, version=2)
    await store.vault.replace(v2, _version(v2), expected_version=1, prune_before=NOW)

    late = replace(v1, version=2, description="lost the race")
    with pytest.raises(Conflict, match="changed"):
        await store.vault.replace(late, _version(late), expected_version=1, prune_before=NOW)

    assert await store.vault.get(an_org.id, "crm.key", None) == v2
    assert await _stored_versions(store, v1.id) == [1, 2]


async def test_delete_removes_the_credential_and_every_version(
    store: SqlStore, an_org: Organization
) -> None:
    gone, kept = _credential(an_org.id), _credential(an_org.id, "kept")
    for credential in (gone, kept):
        await store.vault.create(credential, _version(credential))

    assert await store.vault.delete(gone.id) is True
    assert await store.vault.delete(gone.id) is False
    assert await _stored_versions(store, gone.id) == []
    assert [c.name for c in await store.vault.list_for_org(an_org.id)] == ["kept"]


async def test_deleting_the_organization_deletes_its_credentials(
    store: SqlStore, an_org: Organization
) -> None:
    credential = _credential(an_org.id)
    await store.vault.create(credential, _version(credential))
    async with store.db.transaction() as conn:
        await conn.execute(organizations.delete().where(organizations.c.id == an_org.id))
    async with store.db.connection(write=False) as conn:
        left = (await conn.execute(select(vault_credentials.c.id))).all()
    assert left == []
    assert await _stored_versions(store, credential.id) == []


async def test_rotation_queries_count_list_and_compare_and_set(
    store: SqlStore, an_org: Organization
) -> None:
    a, b, c = (_credential(an_org.id, name) for name in ("a", "b", "c"))
    await store.vault.create(a, _version(a, kek_id="kek-old"))
    await store.vault.create(b, _version(b, kek_id="kek-old"))
    await store.vault.create(c, _version(c, kek_id="kek-new"))

    assert await store.vault.count_by_kek() == {"kek-old": 2, "kek-new": 1}
    pending = await store.vault.wrapped_elsewhere("kek-new", 10)
    assert sorted(row.credential_id for row in pending) == sorted([a.id, b.id])
    assert all(row.org_id == an_org.id and row.version == 1 for row in pending)
    assert len(await store.vault.wrapped_elsewhere("kek-new", 1)) == 1

    row = pending[0]
    new = SealedSecret(row.sealed.ciphertext, secrets.token_bytes(61), "kek-new")
    assert await store.vault.rewrap(row, new) is True
    assert await store.vault.rewrap(row, new) is False  # the old wrapped key is gone
    stale = WrappedKeyRow(row.org_id, row.credential_id, row.version, _sealed("kek-old"))
    assert await store.vault.rewrap(stale, new) is False

    assert await store.vault.count_by_kek() == {"kek-old": 1, "kek-new": 2}
    found = await store.vault.find_current(
        an_org.id, "a" if row.credential_id == a.id else "b", None
    )
    assert found is not None
    assert found[1].sealed == new


# --- users' OAuth connections -----------------------------------------------------------


def _connection(credential: Credential, user_id: str, version: int = 1) -> Connection:
    return Connection(
        id=records.new_id("conn"),
        org_id=credential.org_id,
        credential_id=credential.id,
        user_id=user_id,
        status=ConnectionStatus.ACTIVE,
        token_version=version,
        sealed=_sealed(),
        access_expires_at=NOW + HOUR,
        scope="openid",
        created_at=NOW,
        updated_at=NOW,
    )


async def _oauth_credential(store: SqlStore, org: Organization) -> Credential:
    credential = _credential(org.id, "crm.oauth", kind=CredentialKind.OAUTH_CLIENT)
    await store.vault.create(credential, _version(credential))
    return credential


async def test_pending_authorizations_are_taken_once_and_only_before_expiry(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    credential = await _oauth_credential(store, an_org)
    fresh = PendingAuthorization(
        "hash-1", an_org.id, credential.id, a_user.id, "https://r.example/cb", NOW, NOW + HOUR
    )
    stale = replace(fresh, state_hash="hash-2", expires_at=NOW - HOUR)
    await store.vault.connections.add_pending(fresh)
    await store.vault.connections.add_pending(stale)

    assert await store.vault.connections.take_pending("hash-1", NOW) == fresh
    assert await store.vault.connections.take_pending("hash-1", NOW) is None
    assert await store.vault.connections.take_pending("hash-2", NOW) is None
    assert await store.vault.connections.take_pending("unknown", NOW) is None


async def test_connection_save_replaces_and_the_lease_is_compare_and_set(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    repo = store.vault.connections
    credential = await _oauth_credential(store, an_org)
    first = _connection(credential, a_user.id)
    await repo.save(first)
    assert await repo.get(credential.id, a_user.id) == first

    assert await repo.acquire_lease(first.id, 1, "node-a", NOW + HOUR, NOW) is True
    assert await repo.acquire_lease(first.id, 1, "node-b", NOW + HOUR, NOW) is False
    # An expired lease can be taken over.
    assert await repo.acquire_lease(first.id, 1, "node-b", NOW + DAY, NOW + 2 * HOUR) is True

    refreshed = replace(first, token_version=2, sealed=_sealed(), updated_at=NOW + HOUR)
    assert await repo.store_refreshed(refreshed, owner="node-a") is False  # lost its lease
    assert await repo.store_refreshed(refreshed, owner="node-b") is True
    assert await repo.get(credential.id, a_user.id) == refreshed
    # The lease was released, but version 1 is gone: nobody refreshes it again.
    assert await repo.acquire_lease(first.id, 1, "node-c", NOW + DAY, NOW) is False
    assert await repo.acquire_lease(first.id, 2, "node-c", NOW + DAY, NOW) is True
    await repo.release_lease(first.id, "node-c")
    assert await repo.acquire_lease(first.id, 2, "node-d", NOW + DAY, NOW) is True

    await repo.mark_needs_consent(first.id, NOW + DAY)
    marked = await repo.get(credential.id, a_user.id)
    assert marked is not None
    assert marked.status is ConnectionStatus.NEEDS_CONSENT
    assert await repo.acquire_lease(first.id, 2, "node-e", NOW + DAY, NOW + DAY) is False

    again = replace(_connection(credential, a_user.id, version=3), id="ignored")
    await repo.save(again)  # consent again: same row, active
    saved = await repo.get(credential.id, a_user.id)
    assert saved is not None
    assert (saved.id, saved.status, saved.token_version) == (first.id, again.status, 3)


async def test_rotation_lists_connections_after_versions(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    credential = await _oauth_credential(store, an_org)
    connection = _connection(credential, a_user.id)
    await store.vault.connections.save(connection)

    assert await store.vault.count_by_kek() == {"kek-a": 2}
    rows = await store.vault.wrapped_elsewhere("kek-new", 10)
    assert [(r.user_id, r.version) for r in rows] == [(None, 1), (a_user.id, 1)]
    new = SealedSecret(connection.sealed.ciphertext, secrets.token_bytes(61), "kek-new")
    assert await store.vault.rewrap(rows[1], new) is True
    assert await store.vault.rewrap(rows[1], new) is False
    saved = await store.vault.connections.get(credential.id, a_user.id)
    assert saved is not None
    assert saved.sealed == new
    assert [r.user_id for r in await store.vault.wrapped_elsewhere("kek-new", 10)] == [None]
