"""Contract: the apps gateway's registry, its replay cache (SQL and Redis), and re-wrapping
its sealed secrets with the vault's under a new KEK (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from sqlalchemy import select

from authgate.crypto.envelope import Envelope, KeyEncryptionKey, SealedSecret, UnknownKek, bind
from authgate.errors import Conflict, ServiceUnavailable
from authgate.identity.models import Organization, User
from authgate.signedfetch.lookup import RegistryLookup
from authgate.signedfetch.ports import NonceStore, RegistryRepository
from authgate.signedfetch.registry import (
    App,
    Container,
    ContainerKeyType,
    StoredApp,
    StoredContainer,
    app_context,
    container_context,
)
from authgate.signedfetch.signature import SharedSecret, SignatureMethod
from authgate.store import SqlStore, open_store
from authgate.store.nonces import RedisNonceStore
from authgate.store.tables import organizations, signed_fetch_nonces
from authgate.vault.models import Credential, CredentialKind, SecretVersion
from authgate.vault.ports import KeyRotationRepository
from authgate.vault.rotation import JoinedKeyRows, KekRotation, RotationProgress
from authgate.vault.sealing import credential_context

from . import records
from .records import HOUR, NOW

KEK_OLD, KEK_NEW, KEK_OTHER = (KeyEncryptionKey(secrets.token_bytes(32)) for _ in range(3))
PEM = "-----BEGIN PUBLIC KEY-----\nnot checked by the store\n-----END PUBLIC KEY-----\n"


def _sealed(kek_id: str = "kek-a") -> SealedSecret:
    return SealedSecret(secrets.token_bytes(45), secrets.token_bytes(61), kek_id)


def container(org_id: str, name: str = "jive", **kw: object) -> Container:
    values: dict[str, object] = {
        "id": records.new_id("sfc"),
        "org_id": org_id,
        "name": name,
        "consumer_key": records.new_id("key"),
        "instance_id": records.new_id("inst"),
        "key_type": ContainerKeyType.HMAC,
        "public_key_pem": None,
        "description": "Our Jive",
        "secret_version": 1,
        "created_by": None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(kw)
    return Container(**values)  # type: ignore[arg-type]


def app(org_id: str, **kw: object) -> App:
    values: dict[str, object] = {
        "id": records.new_id("sfa"),
        "org_id": org_id,
        "app_id": records.new_id("planner"),
        "app_url": "https://planner.example.com/app.xml",
        "home_servers": ("https://b.example.com/api", "https://a.example.com"),
        "consumer_key": "planner-key",
        "signature_method": SignatureMethod.HMAC_SHA256,
        "description": "",
        "secret_version": 1,
        "created_by": None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(kw)
    return App(**values)  # type: ignore[arg-type]


def test_the_store_satisfies_the_gateway_ports(store: SqlStore) -> None:
    registry: RegistryRepository = store.signed_fetch
    rotation: KeyRotationRepository = store.signed_fetch
    nonces: NonceStore = store.nonces
    assert registry is store.signed_fetch
    assert rotation is store.signed_fetch
    assert nonces is store.nonces


# --- containers -----------------------------------------------------------------------


async def test_containers_round_trip_every_field_and_the_exact_sealed_bytes(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    hmac = StoredContainer(container(an_org.id, created_by=a_user.id), _sealed())
    rsa = StoredContainer(
        container(an_org.id, "rsa", key_type=ContainerKeyType.RSA, public_key_pem=PEM), None
    )
    await store.signed_fetch.add_container(hmac)
    await store.signed_fetch.add_container(rsa)

    assert await store.signed_fetch.get_container(an_org.id, "jive") == hmac
    assert await store.signed_fetch.container_by_key(rsa.container.consumer_key) == rsa
    assert await store.signed_fetch.get_container(an_org.id, "nope") is None
    assert await store.signed_fetch.get_container(records.new_id("org"), "jive") is None
    assert await store.signed_fetch.container_by_key("unknown") is None
    listed = await store.signed_fetch.list_containers(an_org.id)
    assert listed == [hmac.container, rsa.container]  # by name


async def test_a_name_is_unique_per_organization_and_a_consumer_key_everywhere(
    store: SqlStore, an_org: Organization
) -> None:
    other = records.org()
    await store.orgs.create(other)
    first = container(an_org.id)
    await store.signed_fetch.add_container(StoredContainer(first, _sealed()))

    same_name = container(an_org.id)
    same_key_elsewhere = container(other.id, consumer_key=first.consumer_key)
    for taken in (same_name, same_key_elsewhere):
        with pytest.raises(Conflict):
            await store.signed_fetch.add_container(StoredContainer(taken, _sealed()))
    await store.signed_fetch.add_container(StoredContainer(container(other.id), _sealed()))

    assert [c.id for c in await store.signed_fetch.list_containers(an_org.id)] == [first.id]
    assert len(await store.signed_fetch.list_containers(other.id)) == 1


async def test_replacing_a_container_updates_it_in_place(
    store: SqlStore, an_org: Organization
) -> None:
    first = container(an_org.id)
    neighbour = container(an_org.id, "neighbour")
    await store.signed_fetch.add_container(StoredContainer(first, _sealed()))
    await store.signed_fetch.add_container(StoredContainer(neighbour, _sealed()))

    as_rsa = replace(
        first,
        consumer_key=records.new_id("key"),
        key_type=ContainerKeyType.RSA,
        public_key_pem=PEM,
        secret_version=2,
        updated_at=NOW + HOUR,
    )
    await store.signed_fetch.replace_container(StoredContainer(as_rsa, None))
    assert await store.signed_fetch.get_container(an_org.id, "jive") == StoredContainer(
        as_rsa, None
    )
    assert await store.signed_fetch.container_by_key(first.consumer_key) is None

    with pytest.raises(Conflict):
        await store.signed_fetch.replace_container(
            StoredContainer(replace(as_rsa, consumer_key=neighbour.consumer_key), None)
        )
    found = await store.signed_fetch.get_container(an_org.id, "jive")
    assert found is not None
    assert found.container.consumer_key == as_rsa.consumer_key


async def test_deleting_a_container(store: SqlStore, an_org: Organization) -> None:
    first = container(an_org.id)
    await store.signed_fetch.add_container(StoredContainer(first, _sealed()))

    assert await store.signed_fetch.delete_container(first.id) is True
    assert await store.signed_fetch.delete_container(first.id) is False
    assert await store.signed_fetch.container_by_key(first.consumer_key) is None


# --- apps -------------------------------------------------------------------------------


async def test_apps_round_trip_and_their_ids_are_unique_across_organizations(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    stored = StoredApp(app(an_org.id, created_by=a_user.id), _sealed())
    await store.signed_fetch.add_app(stored)
    other = records.org()
    await store.orgs.create(other)

    assert await store.signed_fetch.get_app(stored.app.app_id) == stored
    assert await store.signed_fetch.get_app("unknown") is None
    with pytest.raises(Conflict):
        await store.signed_fetch.add_app(
            StoredApp(app(other.id, app_id=stored.app.app_id), _sealed())
        )
    assert await store.signed_fetch.list_apps(other.id) == []


async def test_apps_are_replaced_listed_and_deleted(store: SqlStore, an_org: Organization) -> None:
    b, a = app(an_org.id, app_id="b-" + records.new_id()), app(an_org.id, app_id="a-x")
    for each in (b, a):
        await store.signed_fetch.add_app(StoredApp(each, _sealed()))

    changed = replace(
        b,
        home_servers=("https://c.example.com",),
        signature_method=SignatureMethod.HMAC_SHA1,
        secret_version=2,
        description="moved",
        updated_at=NOW + HOUR,
    )
    resealed = _sealed("kek-b")
    await store.signed_fetch.replace_app(StoredApp(changed, resealed))

    assert await store.signed_fetch.get_app(b.app_id) == StoredApp(changed, resealed)
    assert await store.signed_fetch.list_apps(an_org.id) == [a, changed]
    assert await store.signed_fetch.delete_app(a.id) is True
    assert await store.signed_fetch.delete_app(a.id) is False
    assert await store.signed_fetch.list_apps(an_org.id) == [changed]


async def test_deleting_the_organization_deletes_its_containers_and_apps(
    store: SqlStore, an_org: Organization
) -> None:
    kept_org = records.org()
    await store.orgs.create(kept_org)
    doomed = container(an_org.id)
    kept = StoredApp(app(kept_org.id), _sealed())
    await store.signed_fetch.add_container(StoredContainer(doomed, _sealed()))
    await store.signed_fetch.add_app(StoredApp(app(an_org.id), _sealed()))
    await store.signed_fetch.add_app(kept)

    async with store.db.transaction() as conn:
        await conn.execute(organizations.delete().where(organizations.c.id == an_org.id))

    assert await store.signed_fetch.container_by_key(doomed.consumer_key) is None
    assert await store.signed_fetch.list_apps(an_org.id) == []
    assert await store.signed_fetch.get_app(kept.app.app_id) == kept
    assert await store.signed_fetch.count_by_kek() == {"kek-a": 1}


# --- the replay cache in SQL ------------------------------------------------------------


async def test_a_nonce_is_recorded_once(store: SqlStore) -> None:
    nonces = store.nonces
    expires = NOW + timedelta(minutes=10)

    assert await nonces.record("key", 1700000000, "n-1", expires) is True
    assert await nonces.record("key", 1700000000, "n-1", expires) is False
    # Any other part of the triple makes it another nonce.
    assert await nonces.record("key", 1700000001, "n-1", expires) is True
    assert await nonces.record("key-2", 1700000000, "n-1", expires) is True
    assert await nonces.record("key", 1700000000, "n-2", expires) is True
    assert await nonces.record("a", 1, "2:x", expires) is True
    assert await nonces.record("a:1", 1, "x", expires) is True


async def test_pruning_forgets_only_expired_nonces(store: SqlStore) -> None:
    nonces = store.nonces
    await nonces.record("key", 1, "old", NOW - timedelta(seconds=1))
    await nonces.record("key", 1, "edge", NOW)
    await nonces.record("key", 1, "fresh", NOW + timedelta(minutes=5))

    assert await nonces.prune(NOW) == 1
    assert await nonces.prune(NOW) == 0
    async with store.db.connection(write=False) as conn:
        left = (await conn.execute(select(signed_fetch_nonces.c.nonce))).scalars().all()
    assert sorted(left) == ["edge", "fresh"]
    # A pruned nonce's timestamp no longer passes the window; the row is free again.
    assert await nonces.record("key", 1, "old", NOW + HOUR) is True
    assert await nonces.record("key", 1, "fresh", NOW + HOUR) is False


async def test_concurrent_records_of_one_nonce_on_two_nodes_admit_exactly_one(
    store: SqlStore, database_url: str
) -> None:
    other_node = await open_store(database_url)
    try:
        stores = (store.nonces, other_node.nonces)
        expires = NOW + HOUR
        results = await asyncio.gather(
            *(stores[n % 2].record("key", 42, "raced", expires) for n in range(24))
        )
    finally:
        await other_node.close()

    assert sorted(results) == [False] * 23 + [True]


# --- the replay cache in Redis ----------------------------------------------------------


class FixedClock:
    """The contract suite's fixed now."""

    def __call__(self) -> datetime:
        return NOW


@pytest_asyncio.fixture(loop_scope="session")
async def redis_nonces(redis_url: str) -> AsyncIterator[tuple[RedisNonceStore, Redis, str]]:
    """A Redis nonce store under a prefix of this test's own, its keys deleted afterwards."""
    client = Redis.from_url(redis_url)
    prefix = f"authgate-test:{secrets.token_hex(6)}:nonce:"
    try:
        yield RedisNonceStore(client, FixedClock(), prefix=prefix), client, prefix
    finally:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.mark.redis
async def test_redis_records_a_nonce_once_and_forgets_it_at_expiry(
    redis_nonces: tuple[RedisNonceStore, Redis, str],
) -> None:
    nonces, client, prefix = redis_nonces
    expires = NOW + timedelta(seconds=300)

    assert await nonces.record("key", 1700000000, "n-1", expires) is True
    assert await nonces.record("key", 1700000000, "n-1", expires) is False
    assert await nonces.record("key", 1700000001, "n-1", expires) is True
    assert await nonces.record("a", 1, "2:x", expires) is True
    assert await nonces.record("a:1", 1, "x", expires) is True

    name = f"{prefix}3:key:1700000000:n-1"
    assert 299_000 < await client.pttl(name) <= 300_000  # Redis forgets it at ``expires``
    # A timestamp already outside the window still gets a (minimal) expiry, never none.
    assert await nonces.record("key", 1, "late", NOW - timedelta(seconds=5)) is True
    assert await client.pttl(f"{prefix}3:key:1:late") in (-2, 0, 1)


@pytest.mark.redis
async def test_redis_admits_exactly_one_of_many_concurrent_records_across_nodes(
    redis_url: str, redis_nonces: tuple[RedisNonceStore, Redis, str]
) -> None:
    _, _, prefix = redis_nonces
    nodes = [Redis.from_url(redis_url) for _ in range(3)]
    try:
        stores = [RedisNonceStore(node, FixedClock(), prefix=prefix) for node in nodes]
        results = await asyncio.gather(
            *(stores[n % 3].record("key", 42, "raced", NOW + HOUR) for n in range(30))
        )
    finally:
        for node in nodes:
            await node.aclose()

    assert sorted(results) == [False] * 29 + [True]


async def test_an_unreachable_redis_is_service_unavailable() -> None:
    client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    try:
        with pytest.raises(ServiceUnavailable):
            await RedisNonceStore(client, FixedClock()).record("key", 1, "n", NOW + HOUR)
    finally:
        await client.aclose()


# --- key rotation across the vault and the gateway ----------------------------------------


async def test_rotation_queries_list_containers_then_apps_and_compare_and_set(
    store: SqlStore, an_org: Organization
) -> None:
    hmac = StoredContainer(container(an_org.id), _sealed("kek-old"))
    rsa = StoredContainer(
        container(an_org.id, "rsa", key_type=ContainerKeyType.RSA, public_key_pem=PEM), None
    )
    planner = StoredApp(app(an_org.id), _sealed("kek-old"))
    current = StoredApp(app(an_org.id), _sealed("kek-new"))
    await store.signed_fetch.add_container(hmac)
    await store.signed_fetch.add_container(rsa)
    await store.signed_fetch.add_app(planner)
    await store.signed_fetch.add_app(current)

    assert await store.signed_fetch.count_by_kek() == {"kek-old": 2, "kek-new": 1}
    rows = await store.signed_fetch.wrapped_elsewhere("kek-new", 10)
    assert [(r.credential_id, r.bound_to) for r in rows] == [
        (hmac.container.id, container_context(an_org.id, hmac.container.id, 1)),
        (planner.app.id, app_context(an_org.id, planner.app.id, 1)),
    ]
    assert len(await store.signed_fetch.wrapped_elsewhere("kek-new", 1)) == 1

    for row in rows:
        new = SealedSecret(row.sealed.ciphertext, secrets.token_bytes(61), "kek-new")
        assert await store.signed_fetch.rewrap(row, new) is True
        assert await store.signed_fetch.rewrap(row, new) is False  # the old key is gone
    stale = replace(rows[1], version=2)
    assert await store.signed_fetch.rewrap(stale, _sealed("kek-new")) is False

    assert await store.signed_fetch.count_by_kek() == {"kek-new": 3}
    assert await store.signed_fetch.wrapped_elsewhere("kek-new", 10) == []
    found = await store.signed_fetch.get_app(planner.app.app_id)
    assert found is not None
    assert found.sealed.ciphertext == planner.sealed.ciphertext
    assert found.sealed.kek_id == "kek-new"


async def _seed_sealed(
    store: SqlStore, org_id: str, envelope: Envelope, count: int
) -> dict[str, str]:
    """``count`` vault credentials, containers and apps sealed by ``envelope``; returns
    what each opens to, by vault credential id, consumer key and app id."""
    values: dict[str, str] = {}
    for n in range(count):
        value = f"vault-value-{n}-{secrets.token_hex(4)}"
        credential = Credential(
            id=records.new_id("cred"),
            org_id=org_id,
            name=f"c{n}",
            kind=CredentialKind.SECRET,
            solution=None,
            allowed_hosts=("api.example.com",),
            device_usable=False,
            description="",
            oauth=None,
            created_by=None,
            created_at=NOW,
            updated_by=None,
            updated_at=NOW,
            version=1,
        )
        sealed = envelope.seal(value.encode(), credential_context(org_id, credential.id, 1))
        await store.vault.create(credential, SecretVersion(credential.id, 1, sealed, NOW))
        values[credential.id] = value

        box = container(org_id, f"box{n}")
        value = f"container-secret-{n}-{secrets.token_hex(4)}"
        sealed = envelope.seal(value.encode(), bind(*container_context(org_id, box.id, 1)))
        await store.signed_fetch.add_container(StoredContainer(box, sealed))
        values[box.consumer_key] = value

        planner = app(org_id)
        value = f"app-secret-{n}-{secrets.token_hex(4)}"
        sealed = envelope.seal(value.encode(), bind(*app_context(org_id, planner.id, 1)))
        await store.signed_fetch.add_app(StoredApp(planner, sealed))
        values[planner.app_id] = value
    return values


async def _opened(store: SqlStore, org_id: str, envelope: Envelope) -> dict[str, str]:
    """Every seeded secret, opened as the vault and the gateway open them."""
    lookup = RegistryLookup(store.signed_fetch, envelope, time.monotonic)
    found: dict[str, str] = {}
    for credential in await store.vault.list_for_org(org_id):
        current = await store.vault.find_current(org_id, credential.name, None)
        assert current is not None
        context = credential_context(org_id, credential.id, 1)
        found[credential.id] = envelope.open(current[1].sealed, context).decode()
    for box in await store.signed_fetch.list_containers(org_id):
        if box.key_type is ContainerKeyType.RSA:
            continue  # verified with its public key: nothing sealed
        key = await lookup.container(box.consumer_key)
        assert key is not None
        assert isinstance(key.credential, SharedSecret)
        found[box.consumer_key] = key.credential.consumer_secret
    for planner in await store.signed_fetch.list_apps(org_id):
        opened = await lookup.app(planner.app_id)
        assert opened is not None
        found[planner.app_id] = opened.consumer_secret
    return found


async def test_rotate_kek_rewraps_vault_and_gateway_rows_and_resumes(
    store: SqlStore, an_org: Organization
) -> None:
    values = await _seed_sealed(store, an_org.id, Envelope(KEK_OLD), 3)
    rsa = container(an_org.id, "rsa", key_type=ContainerKeyType.RSA, public_key_pem=PEM)
    await store.signed_fetch.add_container(StoredContainer(rsa, None))  # nothing to re-wrap
    rotating = Envelope(KEK_NEW, [KEK_OLD])

    with pytest.raises(UnknownKek, match="AUTHGATE_VAULT_PREVIOUS_KEKS"):
        await KekRotation(
            JoinedKeyRows(store.vault, store.signed_fetch), Envelope(KEK_OTHER)
        ).pending()

    class Interrupted(Exception):
        pass

    def stop_after_four(progress: RotationProgress) -> None:
        if progress.rewrapped == 4:
            raise Interrupted

    first = KekRotation(JoinedKeyRows(store.vault, store.signed_fetch), rotating)
    assert await first.pending() == 9
    with pytest.raises(Interrupted):
        await first.run(batch=2, on_progress=stop_after_four)

    resumed = KekRotation(JoinedKeyRows(store.vault, store.signed_fetch), rotating)
    assert await resumed.pending() == 5
    # Mid-rotation, servers with both KEKs open everything.
    assert await _opened(store, an_org.id, rotating) == values
    assert await resumed.run(batch=2) == 5
    assert await resumed.pending() == 0

    assert await store.vault.count_by_kek() == {KEK_NEW.kek_id: 3}
    assert await store.signed_fetch.count_by_kek() == {KEK_NEW.kek_id: 6}
    # The old KEK can go: the new one alone opens every secret the gateway signs with.
    assert await _opened(store, an_org.id, Envelope(KEK_NEW)) == values
    with pytest.raises(UnknownKek):
        await _opened(store, an_org.id, Envelope(KEK_OLD))
