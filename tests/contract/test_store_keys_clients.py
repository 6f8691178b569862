"""Contract: signing keys and service clients."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import delete

from authgate.errors import Conflict, NotFound
from authgate.identity.models import Organization
from authgate.store import SqlStore
from authgate.store.tables import organizations

from . import records
from .records import DAY, NOW


async def test_signing_keys_listed_newest_first_with_exact_bytes(store: SqlStore) -> None:
    old = records.signing_key(NOW - DAY)
    new = records.signing_key(NOW)
    for key in (old, new):
        await store.signing_keys.add(key)

    assert await store.signing_keys.list() == [new, old]
    with pytest.raises(Conflict):
        await store.signing_keys.add(replace(old, created_at=NOW))


async def test_retire_keeps_the_key_published_and_the_first_time(store: SqlStore) -> None:
    key = records.signing_key()
    await store.signing_keys.add(key)

    await store.signing_keys.retire(key.kid, NOW)
    await store.signing_keys.retire(key.kid, NOW + DAY)

    assert await store.signing_keys.list() == [replace(key, retired_at=NOW)]


async def test_delete_removes_only_that_key(store: SqlStore) -> None:
    gone, kept = records.signing_key(NOW - DAY), records.signing_key(NOW)
    for key in (gone, kept):
        await store.signing_keys.add(key)

    await store.signing_keys.delete(gone.kid)
    await store.signing_keys.delete("missing")

    assert await store.signing_keys.list() == [kept]


async def test_service_client_round_trip_and_listing_by_name(
    store: SqlStore, an_org: Organization
) -> None:
    other_org = records.org()
    await store.orgs.create(other_org)
    zeta = records.service_client(an_org.id, name="zeta", disabled=True)
    alpha = records.service_client(an_org.id, name="alpha", scopes=())
    foreign = records.service_client(other_org.id)
    for client in (zeta, alpha, foreign):
        await store.service_clients.create(client)

    assert await store.service_clients.get(zeta.client_id) == zeta
    assert await store.service_clients.get("missing") is None
    assert await store.service_clients.list_for_org(an_org.id) == [alpha, zeta]
    assert await store.service_clients.list_for_org(other_org.id) == [foreign]


async def test_duplicate_client_id_is_a_conflict(store: SqlStore, an_org: Organization) -> None:
    client = records.service_client(an_org.id)
    await store.service_clients.create(client)

    with pytest.raises(Conflict, match="client id") as caught:
        await store.service_clients.create(
            records.service_client(an_org.id, client_id=client.client_id)
        )
    assert client.client_id not in str(caught.value)


async def test_service_client_update_and_delete(store: SqlStore, an_org: Organization) -> None:
    client = records.service_client(an_org.id)
    await store.service_clients.create(client)
    changed = replace(client, name="renamed", secret_hash="a" * 64, scopes=("x:y",), disabled=True)

    await store.service_clients.update(changed)
    assert await store.service_clients.get(client.client_id) == changed

    assert await store.service_clients.delete(client.client_id) is True
    assert await store.service_clients.delete(client.client_id) is False
    with pytest.raises(NotFound):
        await store.service_clients.update(changed)


async def test_deleting_an_organization_cascades_to_its_rows(
    store: SqlStore, an_org: Organization
) -> None:
    client = records.service_client(an_org.id)
    invite = records.invite(an_org.id)
    await store.service_clients.create(client)
    await store.invites.create(invite)
    async with store.db.connection() as conn:
        await conn.execute(delete(organizations).where(organizations.c.id == an_org.id))

    assert await store.service_clients.get(client.client_id) is None
    assert await store.invites.get_by_token_hash(invite.token_hash) is None
