"""Contract: registered OAuth clients on SQLite and PostgreSQL — every field read back as
written (enums, tuples, optional values), duplicate ids refused, listings by organization
and name, replacement that keeps the id, owner and creation time, and deletion that revokes
the live sessions issued to the client and nothing else."""

from __future__ import annotations

from dataclasses import replace

import pytest

from authgate.errors import Conflict, NotFound
from authgate.identity.models import Organization, User
from authgate.provider.models import (
    ApplicationType,
    AuthMethod,
    ClientType,
    GrantType,
    OAuthClient,
)
from authgate.store import SqlStore
from authgate.store.oauth_clients import REVOKED_REASON
from authgate.tokens.models import TokenFamily

from . import records
from .records import DAY, HOUR, NOW, new_id
from .test_store_provider import oauth_client


def public_native(org_id: str, name: str = "Pocket") -> OAuthClient:
    """A public native app with the device grant, registered dynamically and disabled."""
    return oauth_client(
        org_id,
        name,
        client_type=ClientType.PUBLIC,
        application_type=ApplicationType.NATIVE,
        redirect_uris=("http://127.0.0.1/cb", "com.example.pocket:/cb"),
        post_logout_redirect_uris=(),
        grant_types=(GrantType.DEVICE_CODE, GrantType.REFRESH_TOKEN),
        scopes=("openid",),
        token_endpoint_auth_method=AuthMethod.NONE,
        id_token_signed_response_alg="EdDSA",
        secret_hash=None,
        logo_uri=None,
        disabled=True,
        dynamic=True,
    )


async def family(store: SqlStore, user: User, org_id: str, client_id: str) -> TokenFamily:
    """A stored live family issued to ``client_id``."""
    stored = records.family(user.id, org_id, client_id=client_id)
    await store.refresh_tokens.create_family(stored, records.refresh_token(stored.id))
    return stored


async def test_every_field_reads_back_as_written(store: SqlStore, an_org: Organization) -> None:
    web = oauth_client(
        an_org.id,
        redirect_uris=("https://notes.example/cb", "https://notes.example/cb/"),
        post_logout_redirect_uris=("https://notes.example/bye",),
    )
    native = public_native(an_org.id)
    for client in (web, native):
        await store.oauth_clients.create(client)
    for client in (web, native):
        found = await store.oauth_clients.get(client.client_id)
        assert found == client
        assert found is not None
        assert all(isinstance(grant, GrantType) for grant in found.grant_types)
        assert isinstance(found.client_type, ClientType)
    assert await store.oauth_clients.get("app_unknown") is None


async def test_reads_inside_a_transaction_see_its_writes(
    store: SqlStore, an_org: Organization
) -> None:
    client = oauth_client(an_org.id)
    async with store.transaction():
        await store.oauth_clients.create(client)
        assert await store.oauth_clients.get(client.client_id) == client
    assert await store.oauth_clients.get(client.client_id) == client


async def test_a_taken_client_id_is_a_conflict(store: SqlStore, an_org: Organization) -> None:
    client = oauth_client(an_org.id)
    await store.oauth_clients.create(client)
    with pytest.raises(Conflict, match="client id already exists"):
        await store.oauth_clients.create(replace(client, name="Other"))
    assert await store.oauth_clients.get(client.client_id) == client


async def test_listing_is_per_organization_by_name(store: SqlStore, an_org: Organization) -> None:
    other = records.org()
    await store.orgs.create(other)
    zeta, alpha = oauth_client(an_org.id, "Zeta"), public_native(an_org.id, "Alpha")
    theirs = oauth_client(other.id, "Beta")
    for client in (zeta, alpha, theirs):
        await store.oauth_clients.create(client)
    assert await store.oauth_clients.list_for_org(an_org.id) == [alpha, zeta]
    assert await store.oauth_clients.list_for_org(other.id) == [theirs]
    assert await store.oauth_clients.list_for_org(new_id("org")) == []


async def test_update_replaces_all_but_id_owner_and_creation(
    store: SqlStore, an_org: Organization
) -> None:
    client = oauth_client(an_org.id)
    await store.oauth_clients.create(client)
    changed = public_native(an_org.id)
    moved = replace(changed, client_id=client.client_id, org_id=new_id("org"), created_at=NOW + DAY)
    await store.oauth_clients.update(replace(moved, updated_at=NOW + HOUR))
    assert await store.oauth_clients.get(client.client_id) == replace(
        changed, client_id=client.client_id, updated_at=NOW + HOUR
    )
    with pytest.raises(NotFound):
        await store.oauth_clients.update(oauth_client(an_org.id))


async def test_delete_revokes_only_the_clients_live_sessions(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    gone, kept = oauth_client(an_org.id), oauth_client(an_org.id, "Kept")
    for client in (gone, kept):
        await store.oauth_clients.create(client)
    live = await family(store, a_user, an_org.id, gone.client_id)
    ended = await family(store, a_user, an_org.id, gone.client_id)
    await store.refresh_tokens.revoke_family(ended.id, "logout", NOW)
    other = await family(store, a_user, an_org.id, kept.client_id)
    device = await family(store, a_user, an_org.id, "authgate-cli")

    assert await store.oauth_clients.delete(gone.client_id) is True

    assert await store.oauth_clients.get(gone.client_id) is None
    revoked = await store.refresh_tokens.get_family(live.id)
    assert revoked is not None
    assert revoked.revoked_at is not None
    assert revoked.revoked_reason == REVOKED_REASON
    earlier = await store.refresh_tokens.get_family(ended.id)
    assert earlier is not None
    assert earlier.revoked_reason == "logout"
    for untouched in (other, device):
        assert await store.refresh_tokens.get_family(untouched.id) == untouched
    assert await store.oauth_clients.list_for_org(an_org.id) == [kept]


async def test_deleting_an_unknown_id_revokes_nothing(
    store: SqlStore, an_org: Organization, a_user: User
) -> None:
    device = await family(store, a_user, an_org.id, "authgate-cli")
    assert await store.oauth_clients.delete("authgate-cli") is False
    assert await store.oauth_clients.delete(new_id("app")) is False
    assert await store.refresh_tokens.get_family(device.id) == device
