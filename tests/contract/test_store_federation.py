"""Contract: SSO federation's storage, on SQLite and PostgreSQL — IdPs (compare-and-set
replacement, names per organization, sealed secrets re-wrapped by KEK rotation), settings,
linked IdP accounts, single-use logins and codes, pruning, and the sessions an IdP started."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import replace
from datetime import datetime

import pytest

from authgate.crypto.envelope import Envelope, KeyEncryptionKey, bind
from authgate.errors import Conflict
from authgate.federation.directory import secret_context
from authgate.federation.models import (
    BrokerCode,
    Endpoints,
    FederatedIdentity,
    IdpConfig,
    IdpType,
    LoginKind,
    LoginTransaction,
    Provisioning,
    SsoSettings,
)
from authgate.identity.models import Organization, User
from authgate.store import SqlStore
from authgate.vault.rotation import JoinedKeyRows, KekRotation

from . import records
from .records import HOUR, NOW, new_id

KEK_OLD, KEK_NEW = (KeyEncryptionKey(secrets.token_bytes(32)) for _ in range(2))


def idp(
    org_id: str, name: str = "main", envelope: Envelope | None = None, **kw: object
) -> IdpConfig:
    """An IdP whose client secret is ``secret-<name>``, sealed for its row."""
    idp_id = new_id("idp")
    sealed = (envelope or Envelope(KEK_OLD)).seal(
        f"secret-{name}".encode(), bind(*secret_context(org_id, idp_id, 1))
    )
    values: dict[str, object] = {
        "id": idp_id,
        "org_id": org_id,
        "name": name,
        "display_name": name.title(),
        "type": IdpType.OKTA,
        "issuer": "https://idp.example/oauth2/default",
        "client_id": "authgate",
        "device_client_id": None,
        "scopes": ("openid", "email"),
        "pkce": True,
        "nonce": True,
        "domains": ("example.com",),
        "tenants": (),
        "endpoints": None,
        "enabled": True,
        "version": 1,
        "secret": sealed,
        "secret_version": 1,
        "created_by": None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(kw)
    return IdpConfig(**values)  # type: ignore[arg-type]


def opened(config: IdpConfig, envelope: Envelope) -> str:
    context = bind(*secret_context(config.org_id, config.id, config.secret_version))
    return envelope.open(config.secret, context).decode()


async def test_an_idp_round_trips_with_its_endpoints(store: SqlStore, an_org: Organization) -> None:
    endpoints = Endpoints("https://idp.example/a", "https://idp.example/t", "https://idp.example/k")
    stored = idp(an_org.id, endpoints=endpoints, tenants=("t1",), device_client_id="dev")
    await store.federation.create_idp(stored)

    assert await store.federation.get_idp(stored.id) == stored
    assert await store.federation.find_idp(an_org.id, "main") == stored
    assert await store.federation.find_idp(an_org.id, "other") is None
    assert opened(stored, Envelope(KEK_OLD)) == "secret-main"


async def test_names_are_unique_per_organization(store: SqlStore, an_org: Organization) -> None:
    other = records.org()
    await store.orgs.create(other)
    await store.federation.create_idp(idp(an_org.id))
    await store.federation.create_idp(idp(other.id))  # the same name elsewhere is fine

    with pytest.raises(Conflict):
        await store.federation.create_idp(idp(an_org.id))


async def test_listing_is_by_organization_then_name(store: SqlStore, an_org: Organization) -> None:
    other = records.org()
    await store.orgs.create(other)
    for org_id, name in ((an_org.id, "zeta"), (an_org.id, "alpha"), (other.id, "mid")):
        await store.federation.create_idp(idp(org_id, name))

    names = [i.name for i in await store.federation.list_idps(an_org.id)]
    both = await store.federation.list_idps_for_orgs([an_org.id, other.id])

    assert names == ["alpha", "zeta"]
    assert {i.name for i in both} == {"alpha", "zeta", "mid"}
    assert await store.federation.list_idps_for_orgs([]) == []


async def test_replacement_is_compare_and_set_on_the_version(
    store: SqlStore, an_org: Organization
) -> None:
    stored = idp(an_org.id)
    await store.federation.create_idp(stored)
    changed = replace(stored, version=2, scopes=("openid",), updated_at=NOW + HOUR)

    await store.federation.replace_idp(changed, expected_version=1)

    assert await store.federation.get_idp(stored.id) == changed
    with pytest.raises(Conflict):
        await store.federation.replace_idp(replace(changed, version=3), expected_version=1)


async def test_deleting_an_idp_takes_its_logins_and_codes(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    stored = idp(an_org.id)
    await store.federation.create_idp(stored)
    await store.federation.add_transaction(login(stored))
    await store.federation.add_code(code(stored, a_user))

    assert await store.federation.delete_idp(stored.id) is True
    assert await store.federation.delete_idp(stored.id) is False
    assert await store.federation.get_idp(stored.id) is None


async def test_settings_insert_then_replace(store: SqlStore, an_org: Organization) -> None:
    assert await store.federation.get_settings(an_org.id) is None
    first = SsoSettings(an_org.id, Provisioning.AUTO, False, ("crm",), NOW)
    await store.federation.put_settings(first)
    second = SsoSettings(an_org.id, Provisioning.REQUEST_ACCESS, True, (), NOW + HOUR)
    await store.federation.put_settings(second)

    assert await store.federation.get_settings(an_org.id) == second


async def test_identities_are_unique_by_issuer_and_subject(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    stored = idp(an_org.id)
    await store.federation.create_idp(stored)
    identity = FederatedIdentity("https://i.example", "sub-1", a_user.id, stored.id, None, NOW, NOW)
    await store.federation.add_identity(identity)
    # The same subject at another issuer is another account.
    other = replace(identity, issuer="https://j.example")
    await store.federation.add_identity(other)

    with pytest.raises(Conflict):
        await store.federation.add_identity(replace(identity, user_id=a_user.id))
    await store.federation.touch_identity("https://i.example", "sub-1", NOW + HOUR)
    found = await store.federation.get_identity("https://i.example", "sub-1")
    assert found == replace(identity, last_login_at=NOW + HOUR)
    assert await store.federation.get_identity("https://i.example", "sub-2") is None
    assert len(await store.federation.list_identities(a_user.id)) == 2
    # Deleting the IdP keeps the link (it names the issuer, not the configuration).
    await store.federation.delete_idp(stored.id)
    kept = await store.federation.get_identity("https://i.example", "sub-1")
    assert kept is not None
    assert kept.idp_id is None


def login(config: IdpConfig, expires: datetime = NOW + HOUR) -> LoginTransaction:
    return LoginTransaction(
        state_hash=new_id("state"),
        kind=LoginKind.BROKERED,
        idp_id=config.id,
        org_id=config.org_id,
        idp_version=config.version,
        created_at=NOW,
        expires_at=expires,
        client_id="authgate-device",
        redirect_uri="http://127.0.0.1/callback",
        app_state="app",
        code_challenge="c" * 43,
    )


def code(config: IdpConfig, user: User, expires: datetime = NOW + HOUR) -> BrokerCode:
    return BrokerCode(
        code_hash=new_id("code"),
        user_id=user.id,
        org_id=config.org_id,
        idp_id=config.id,
        idp_version=config.version,
        client_id="authgate-device",
        redirect_uri="http://127.0.0.1/callback",
        code_challenge="c" * 43,
        created_at=NOW,
        expires_at=expires,
    )


async def test_a_login_is_taken_once_and_not_after_expiry(
    store: SqlStore, an_org: Organization
) -> None:
    stored = idp(an_org.id)
    await store.federation.create_idp(stored)
    fresh, stale = login(stored), login(stored, expires=NOW - HOUR)
    await store.federation.add_transaction(fresh)
    await store.federation.add_transaction(stale)

    assert await store.federation.take_transaction(fresh.state_hash, NOW) == fresh
    assert await store.federation.take_transaction(fresh.state_hash, NOW) is None
    assert await store.federation.take_transaction(stale.state_hash, NOW) is None
    duplicate = login(stored)
    await store.federation.add_transaction(duplicate)
    with pytest.raises(Conflict):
        await store.federation.add_transaction(replace(duplicate, app_state=None))


async def test_concurrent_takes_of_one_login_give_it_to_one(
    store: SqlStore, an_org: Organization
) -> None:
    stored = idp(an_org.id)
    await store.federation.create_idp(stored)
    pending = login(stored)
    await store.federation.add_transaction(pending)

    taken = await asyncio.gather(
        *(store.federation.take_transaction(pending.state_hash, NOW) for _ in range(5))
    )

    assert [t for t in taken if t is not None] == [pending]


async def test_a_code_is_spent_once_with_its_session(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    stored = idp(an_org.id)
    await store.federation.create_idp(stored)
    issued = code(stored, a_user)
    await store.federation.add_code(issued)

    spent = await store.federation.spend_code(issued.code_hash, NOW, "session-1")
    again = await store.federation.spend_code(issued.code_hash, NOW, "session-2")

    assert spent == replace(issued, used_at=NOW, session_id="session-1")
    assert again is None
    assert await store.federation.get_code(issued.code_hash) == spent
    assert await store.federation.get_code("unknown") is None


async def test_concurrent_redemptions_spend_a_code_once(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    stored = idp(an_org.id)
    await store.federation.create_idp(stored)
    issued = code(stored, a_user)
    await store.federation.add_code(issued)

    spent = await asyncio.gather(
        *(store.federation.spend_code(issued.code_hash, NOW, f"s{i}") for i in range(5))
    )

    assert len([s for s in spent if s is not None]) == 1


async def test_an_expired_code_is_not_spent(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    stored = idp(an_org.id)
    await store.federation.create_idp(stored)
    issued = code(stored, a_user, expires=NOW)
    await store.federation.add_code(issued)

    assert await store.federation.spend_code(issued.code_hash, NOW, "s") is None


async def test_prune_removes_what_expired_before_the_cutoff(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    stored = idp(an_org.id)
    await store.federation.create_idp(stored)
    old_login, new_login = login(stored, NOW - 2 * HOUR), login(stored, NOW + HOUR)
    old_code, new_code = code(stored, a_user, NOW - 2 * HOUR), code(stored, a_user, NOW + HOUR)
    for item in (old_login, new_login):
        await store.federation.add_transaction(item)
    for item in (old_code, new_code):
        await store.federation.add_code(item)

    assert await store.federation.prune(NOW - HOUR) == 2
    assert await store.federation.get_code(old_code.code_hash) is None
    assert await store.federation.get_code(new_code.code_hash) is not None
    assert await store.federation.take_transaction(new_login.state_hash, NOW) is not None


async def test_ending_an_idps_sessions_leaves_every_other_session(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    stored, other = idp(an_org.id), idp(an_org.id, "other")
    await store.federation.create_idp(stored)
    await store.federation.create_idp(other)
    families = {}
    for label, idp_id in (("this", stored.id), ("other", other.id), ("password", None)):
        family = records.family(a_user.id, an_org.id, idp_id=idp_id)
        await store.refresh_tokens.create_family(family, records.refresh_token(family.id))
        families[label] = family

    assert await store.federation.end_sessions(stored.id, "identity provider changed", NOW) == 1
    assert await store.federation.end_sessions(stored.id, "again", NOW) == 0

    ended = await store.refresh_tokens.get_family(families["this"].id)
    assert ended is not None
    assert ended.revoked_reason == "identity provider changed"
    assert ended.idp_id == stored.id
    for label in ("other", "password"):
        live = await store.refresh_tokens.get_family(families[label].id)
        assert live is not None
        assert live.revoked_at is None


async def test_rotate_kek_rewraps_idp_secrets_with_the_vaults(
    store: SqlStore, an_org: Organization
) -> None:
    configs = [idp(an_org.id, f"idp-{i}", Envelope(KEK_OLD)) for i in range(3)]
    for config in configs:
        await store.federation.create_idp(config)
    rotating = Envelope(KEK_NEW, [KEK_OLD])
    rotation = KekRotation(JoinedKeyRows(store.vault, store.federation), rotating)

    assert await rotation.pending() == 3
    assert await rotation.run(batch=2) == 3
    assert await rotation.pending() == 0

    assert await store.federation.count_by_kek() == {KEK_NEW.kek_id: 3}
    for config in configs:
        rewrapped = await store.federation.get_idp(config.id)
        assert rewrapped is not None
        assert opened(rewrapped, Envelope(KEK_NEW)) == f"secret-{config.name}"
