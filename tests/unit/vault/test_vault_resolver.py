"""The call resolver: scope order, kinds, allowed hosts, audit of every use, tampering."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from authgate.crypto.envelope import EnvelopeError
from authgate.errors import NotFound
from authgate.identity.models import Role
from authgate.store.tables import vault_credentials, vault_secret_versions
from authgate.vault.errors import ConsentRequired, CredentialNotUsable, NotRefreshable
from authgate.vault.models import CredentialKind, CredentialSpec, OAuthClientConfig, SecretFields

from .conftest import World, add_org

CANARY = "canary-resolver-51c2"


def spec(kind: CredentialKind, fields: dict[str, str], **kw: object) -> CredentialSpec:
    values: dict[str, object] = {
        "kind": kind,
        "secret": SecretFields(fields),
        "allowed_hosts": () if kind is CredentialKind.SQL_CONNECTION else ("API.example.com",),
    }
    values.update(kw)
    return CredentialSpec(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "fields", "send_as", "value"),
    [
        (CredentialKind.SECRET, {"value": CANARY}, "secret", CANARY),
        (CredentialKind.API_KEY, {"value": CANARY}, "api_key", CANARY),
        (CredentialKind.BEARER_TOKEN, {"value": CANARY}, "bearer", CANARY),
        (CredentialKind.BASIC, {"username": "ada", "password": CANARY}, "basic", f"ada:{CANARY}"),
    ],
)
async def test_each_http_kind_resolves_with_its_hosts_and_is_audited(
    world: World, kind: CredentialKind, fields: dict[str, str], send_as: str, value: str
) -> None:
    await world.vault.put("acme", "crm.key", spec(kind, fields), world.admin)
    user = world.members[Role.USER]
    resolver = world.vault.resolver(world.org.id, "sales", "list-orders", user)

    found = await resolver.resolve("crm.key")

    assert (found.name, found.send_as, found.value) == ("crm.key", send_as, value)
    assert found.allowed_hosts == {"api.example.com"}
    assert CANARY not in repr(found)
    [used] = await world.audit("credential.used")
    assert used["subject"] == "crm.key"
    assert used["function"] == "list-orders"
    assert used["actor"] == user.user_id
    assert used["outcome"] == "success"
    assert CANARY not in repr(await world.store.audit.list(None, limit=1000))


async def test_the_solution_scope_wins_over_the_organization(world: World) -> None:
    await world.vault.put("acme", "k", spec(CredentialKind.SECRET, {"value": "org"}), world.admin)
    scoped = spec(CredentialKind.SECRET, {"value": "sales"}, solution="sales")
    await world.vault.put("acme", "k", scoped, world.admin)
    user = world.members[Role.USER]

    assert (await world.vault.resolver(world.org.id, "sales", "f", user).resolve("k")).value == (
        "sales"
    )
    assert (await world.vault.resolver(world.org.id, "other", "f", user).resolve("k")).value == (
        "org"
    )
    assert (await world.vault.resolver(world.org.id, None, "f", user).resolve("k")).value == "org"


async def test_names_never_resolve_in_another_organization(world: World) -> None:
    await world.vault.put("acme", "k", spec(CredentialKind.SECRET, {"value": CANARY}), world.admin)
    other, members = await add_org(world.store, world.clock, "other")
    resolver = world.vault.resolver(other.id, None, "f", members[Role.OWNER])
    with pytest.raises(NotFound, match="'k' is not stored"):
        await resolver.resolve("k")


async def test_a_replacement_is_seen_by_the_next_resolve(world: World) -> None:
    resolver = world.vault.resolver(world.org.id, None, "f", world.admin)
    await world.vault.put("acme", "k", spec(CredentialKind.SECRET, {"value": "one"}), world.admin)
    assert (await resolver.resolve("k")).value == "one"
    await world.vault.put("acme", "k", spec(CredentialKind.SECRET, {"value": "two"}), world.admin)
    assert (await resolver.resolve("k")).value == "two"


async def test_sql_connections_only_resolve_as_connections(world: World) -> None:
    url = f"postgresql://app:{CANARY}@db.internal/sales"
    await world.vault.put(
        "acme", "sales.db", spec(CredentialKind.SQL_CONNECTION, {"value": url}), world.admin
    )
    await world.vault.put("acme", "k", spec(CredentialKind.SECRET, {"value": "v"}), world.admin)
    resolver = world.vault.resolver(world.org.id, None, "f", world.admin)

    with pytest.raises(CredentialNotUsable, match="only an SQL function") as caught:
        await resolver.resolve("sales.db")
    assert CANARY not in str(caught.value)
    assert await resolver.resolve_sql_connection("sales.db") == url
    with pytest.raises(CredentialNotUsable, match="not an sql_connection"):
        await resolver.resolve_sql_connection("k")


async def test_an_oauth_client_asks_for_consent(world: World) -> None:
    oauth = OAuthClientConfig(
        "https://login.example.com/a", "https://login.example.com/t", "client", ("openid",)
    )
    await world.vault.put(
        "acme",
        "crm.oauth",
        spec(CredentialKind.OAUTH_CLIENT, {"client_secret": CANARY}, oauth=oauth),
        world.admin,
    )
    resolver = world.vault.resolver(world.org.id, None, "f", world.admin)
    with pytest.raises(ConsentRequired, match=r"/v1/connections/crm\.oauth/authorize"):
        await resolver.resolve("crm.oauth")


async def test_refresh_is_refused_for_non_oauth_kinds(world: World) -> None:
    await world.vault.put("acme", "k", spec(CredentialKind.SECRET, {"value": "v"}), world.admin)
    resolver = world.vault.resolver(world.org.id, None, "f", world.admin)
    found = await resolver.resolve("k")
    with pytest.raises(NotRefreshable, match="cannot be refreshed"):
        await resolver.refresh("k", found)


async def test_a_row_swapped_between_credentials_fails_and_is_audited(world: World) -> None:
    await world.vault.put("acme", "a", spec(CredentialKind.SECRET, {"value": "A"}), world.admin)
    b, _ = await world.vault.put(
        "acme", "b", spec(CredentialKind.SECRET, {"value": "B"}), world.admin
    )
    a = await world.vault.get("acme", "a", world.admin)
    v = vault_secret_versions
    async with world.store.db.transaction() as conn:
        row_b = (await conn.execute(select(v).where(v.c.credential_id == b.id))).one()
        await conn.execute(
            update(v)
            .where(v.c.credential_id == a.id)
            .values(ciphertext=row_b.ciphertext, wrapped_key=row_b.wrapped_key)
        )
    resolver = world.vault.resolver(world.org.id, None, "f", world.admin)

    with pytest.raises(EnvelopeError, match="moved from another credential"):
        await resolver.resolve("a")
    assert (await resolver.resolve("b")).value == "B"
    outcomes = [(e["subject"], e["outcome"]) for e in await world.audit("credential.used")]
    assert sorted(outcomes) == [("a", "failure"), ("b", "success")]


async def test_a_credential_moved_to_another_organization_fails(world: World) -> None:
    a, _ = await world.vault.put(
        "acme", "a", spec(CredentialKind.SECRET, {"value": CANARY}), world.admin
    )
    other, members = await add_org(world.store, world.clock, "other")
    c = vault_credentials
    async with world.store.db.transaction() as conn:
        await conn.execute(update(c).where(c.c.id == a.id).values(org_id=other.id))
    resolver = world.vault.resolver(other.id, None, "f", members[Role.OWNER])
    with pytest.raises(EnvelopeError):
        await resolver.resolve("a")


async def test_an_older_version_made_current_again_fails(world: World) -> None:
    a, _ = await world.vault.put(
        "acme", "a", spec(CredentialKind.SECRET, {"value": "one"}), world.admin
    )
    await world.vault.put("acme", "a", spec(CredentialKind.SECRET, {"value": "two"}), world.admin)
    v = vault_secret_versions
    async with world.store.db.transaction() as conn:
        old = (
            await conn.execute(select(v).where((v.c.credential_id == a.id) & (v.c.version == 1)))
        ).one()
        await conn.execute(
            update(v)
            .where((v.c.credential_id == a.id) & (v.c.version == 2))
            .values(ciphertext=old.ciphertext, wrapped_key=old.wrapped_key)
        )
    resolver = world.vault.resolver(world.org.id, None, "f", world.admin)
    with pytest.raises(EnvelopeError):
        await resolver.resolve("a")
