"""The vault service: write-only, versioned, audited, and for administrators only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from authgate.errors import Forbidden, NotFound
from authgate.identity.deps import Actor
from authgate.identity.models import Role
from authgate.store.tables import vault_secret_versions
from authgate.vault.errors import InvalidCredential
from authgate.vault.models import CredentialKind, CredentialSpec, SecretFields

from .conftest import World, add_org

CANARY = "canary-7f3a9-do-not-leak"


def api_key(value: str = CANARY, **kw: object) -> CredentialSpec:
    values: dict[str, object] = {
        "kind": CredentialKind.API_KEY,
        "secret": SecretFields({"value": value}),
        "allowed_hosts": ("api.example.com",),
    }
    values.update(kw)
    return CredentialSpec(**values)  # type: ignore[arg-type]


async def versions(world: World, credential_id: str) -> list[int]:
    async with world.store.db.connection(write=False) as conn:
        rows = await conn.execute(
            select(vault_secret_versions.c.version).where(
                vault_secret_versions.c.credential_id == credential_id
            )
        )
        return sorted(row.version for row in rows)


async def test_create_then_replace_makes_versions_and_audits_without_values(
    world: World,
) -> None:
    created, is_new = await world.vault.put("acme", "crm.key", api_key(), world.admin)
    world.clock.advance(60)
    replaced, again_new = await world.vault.put(
        "acme", "crm.key", api_key(CANARY + "-2", description="v2"), world.admin
    )

    assert (is_new, again_new) == (True, False)
    assert (created.version, replaced.version) == (1, 2)
    assert replaced.id == created.id
    assert replaced.created_at == created.created_at
    assert replaced.updated_at > created.updated_at
    assert replaced.created_by == replaced.updated_by == world.admin.user_id
    events = await world.audit("credential.created") + await world.audit("credential.replaced")
    assert [(e["subject"], e["version"]) for e in events] == [("crm.key", "1"), ("crm.key", "2")]
    everything = await world.store.audit.list(None, limit=1000)
    assert CANARY not in repr(everything)
    assert CANARY not in repr(created)
    assert CANARY not in repr(api_key())


async def test_a_superseded_version_is_kept_for_the_grace_period_only(world: World) -> None:
    first, _ = await world.vault.put("acme", "crm.key", api_key(), world.admin)
    await world.vault.put("acme", "crm.key", api_key(), world.admin)
    assert await versions(world, first.id) == [1, 2]

    world.clock.advance(11 * 60)  # past VERSION_GRACE
    await world.vault.put("acme", "crm.key", api_key(), world.admin)

    assert await versions(world, first.id) == [2, 3]


async def test_changing_the_kind_needs_a_delete_first(world: World) -> None:
    await world.vault.put("acme", "crm.key", api_key(), world.admin)
    bearer = api_key(kind=CredentialKind.BEARER_TOKEN)
    with pytest.raises(InvalidCredential, match="delete it before"):
        await world.vault.put("acme", "crm.key", bearer, world.admin)

    await world.vault.delete("acme", "crm.key", world.admin)
    stored, created = await world.vault.put("acme", "crm.key", bearer, world.admin)
    assert (stored.kind, stored.version, created) == (CredentialKind.BEARER_TOKEN, 1, True)


async def test_scopes_are_separate_credentials(world: World) -> None:
    org_wide, _ = await world.vault.put("acme", "crm.key", api_key(), world.admin)
    scoped, _ = await world.vault.put("acme", "crm.key", api_key(solution="sales"), world.admin)

    assert org_wide.id != scoped.id
    assert (await world.vault.get("acme", "crm.key", world.admin)).id == org_wide.id
    assert (await world.vault.get("acme", "crm.key", world.admin, "sales")).id == scoped.id
    await world.vault.delete("acme", "crm.key", world.admin, "sales")
    assert [c.solution for c in await world.vault.list("acme", world.admin)] == [None]
    with pytest.raises(NotFound):
        await world.vault.get("acme", "crm.key", world.admin, "sales")


async def test_delete_removes_every_version_and_is_audited(world: World) -> None:
    first, _ = await world.vault.put("acme", "crm.key", api_key(), world.admin)
    await world.vault.put("acme", "crm.key", api_key(), world.admin)

    await world.vault.delete("acme", "crm.key", world.admin)

    assert await versions(world, first.id) == []
    assert [e["subject"] for e in await world.audit("credential.deleted")] == ["crm.key"]
    with pytest.raises(NotFound, match=r"'crm\.key' not found"):
        await world.vault.delete("acme", "crm.key", world.admin)


@pytest.mark.parametrize("role", [Role.MAKER, Role.USER])
async def test_members_without_the_admin_role_get_403_everywhere(world: World, role: Role) -> None:
    await world.vault.put("acme", "crm.key", api_key(), world.admin)
    actor = world.members[role]
    for attempt in (
        world.vault.put("acme", "crm.key", api_key("x"), actor),
        world.vault.put("acme", "new.key", api_key("x"), actor),
        world.vault.list("acme", actor),
        world.vault.get("acme", "crm.key", actor),
        world.vault.delete("acme", "crm.key", actor),
    ):
        with pytest.raises(Forbidden):
            await attempt
    assert (await world.vault.get("acme", "crm.key", world.admin)).version == 1


@pytest.mark.parametrize("role", [Role.DENY, None])
async def test_other_organizations_and_suspended_members_get_404(
    world: World, role: Role | None
) -> None:
    await world.vault.put("acme", "crm.key", api_key(), world.admin)
    _, others = await add_org(world.store, world.clock, "other")
    actor = world.members[Role.DENY] if role else others[Role.OWNER]
    for attempt in (
        world.vault.put("acme", "crm.key", api_key("x"), actor),
        world.vault.list("acme", actor),
        world.vault.get("acme", "crm.key", actor),
        world.vault.delete("acme", "crm.key", actor),
    ):
        with pytest.raises(NotFound, match="organization"):
            await attempt
    assert await world.vault.list("other", others[Role.OWNER]) == []


async def test_owners_and_admins_may_manage(world: World) -> None:
    for role in (Role.OWNER, Role.ADMIN):
        credential, _ = await world.vault.put(
            "acme", f"{role.value.lower()}.key", api_key(), world.members[role]
        )
        assert credential.created_by == world.members[role].user_id
    assert len(await world.vault.list("acme", world.members[Role.OWNER])) == 2


async def test_errors_name_the_field_never_the_value(world: World) -> None:
    bad = api_key(CANARY + "\r\n")
    with pytest.raises(InvalidCredential) as caught:
        await world.vault.put("acme", "crm.key", bad, world.admin)
    assert CANARY not in str(caught.value)
    assert CANARY not in repr(caught.value.details)
    assert await world.vault.list("acme", world.admin) == []
    assert await world.audit("credential.created") == []


async def test_an_anonymous_actor_gets_404(world: World) -> None:
    with pytest.raises(NotFound):
        await world.vault.list("acme", Actor(None))
