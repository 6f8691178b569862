"""Organizations and their members: create, configure, change roles, remove.

Removing a member or setting DENY ends their sessions in that organization at once. An
organization always keeps at least one OWNER, and only an OWNER grants or takes OWNER.
"""

from __future__ import annotations

import re
from dataclasses import replace

from authgate.crypto.randomness import new_id
from authgate.errors import Conflict, Forbidden, NotFound, ValidationFailed
from authgate.identity.access import require_admin
from authgate.identity.deps import Actor, IdentityDeps
from authgate.identity.domains import check_admin_claims, normalise_domains
from authgate.identity.emails import normalise_email
from authgate.identity.models import DomainJoin, Membership, Organization, Role, User


class Keep:
    """Marks a setting the caller did not mention (as opposed to clearing it with None)."""


KEEP = Keep()
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def check_slug(slug: str) -> str:
    """A slug is 1-63 lower-case letters, digits and inner hyphens."""
    if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
        raise ValidationFailed(
            "organization slug must be 1-63 lower-case letters, digits or hyphens, "
            "not starting or ending with a hyphen"
        )
    return slug


def check_name(name: str, what: str = "name") -> str:
    """A display name: 1-200 characters without control characters."""
    stripped = name.strip() if isinstance(name, str) else ""
    if not stripped or len(stripped) > 200 or any(ord(c) < 32 for c in stripped):
        raise ValidationFailed(f"{what} must be 1-200 printable characters")
    return stripped


class OrganizationService:
    """Admin operations on one organization at a time."""

    def __init__(self, deps: IdentityDeps) -> None:
        self._deps = deps

    async def create(
        self, slug: str, name: str, owner: User, actor: Actor, domains: tuple[str, ...] = ()
    ) -> Organization:
        """A new organization with ``owner`` as its OWNER."""
        org = Organization(
            id=new_id(),
            slug=check_slug(slug),
            name=check_name(name),
            domains=normalise_domains(list(domains)),
            domain_join=DomainJoin.OFF,
            request_email=None,
            created_at=self._deps.now(),
        )
        async with self._deps.store.transaction():
            await self._deps.store.orgs.create(org)
            await self._deps.store.memberships.put(
                Membership(org.id, owner.id, Role.OWNER, self._deps.now())
            )
            await self._deps.audit("org.create", actor, org_id=org.id, subject=owner.id)
        return org

    async def update(
        self,
        slug: str,
        actor: Actor,
        *,
        name: str | None = None,
        domains: list[str] | None = None,
        domain_join: DomainJoin | None = None,
        request_email: str | Keep | None = KEEP,
    ) -> Organization:
        """Change settings; only the given fields change (``request_email=None`` clears it)."""
        org, _ = await require_admin(self._deps, slug, actor)
        wanted = org.domains
        if domains is not None:
            wanted = normalise_domains(domains)
            admin = await self._deps.store.users.get(actor.user_id or "")
            if admin is None:
                raise Forbidden("this needs a signed-in admin")
            check_admin_claims(org.domains, wanted, admin)
        if isinstance(request_email, Keep):
            request_email = org.request_email
        changed = replace(
            org,
            name=check_name(name) if name is not None else org.name,
            domains=wanted,
            domain_join=domain_join if domain_join is not None else org.domain_join,
            request_email=normalise_email(request_email) if request_email else None,
        )
        await self._deps.store.orgs.update(changed)
        await self._deps.audit("org.update", actor, org_id=org.id)
        return changed

    async def set_domains_as_operator(
        self, slug: str, add: list[str], remove: list[str], actor: Actor
    ) -> Organization:
        """The operator's way to verify any domain (ownership checked out of band)."""
        org = await self._deps.store.orgs.get_by_slug(slug.lower())
        if org is None:
            raise NotFound(f"organization '{slug[:64]}' not found")
        dropped = set(normalise_domains(remove))
        kept = [d for d in org.domains if d not in dropped]
        changed = replace(org, domains=normalise_domains([*kept, *add]))
        await self._deps.store.orgs.update(changed)
        await self._deps.audit(
            "org.domains", actor, org_id=org.id, domains=" ".join(changed.domains)
        )
        return changed

    async def members(self, slug: str, actor: Actor) -> list[tuple[Membership, User]]:
        """Every member with their user record."""
        org, _ = await require_admin(self._deps, slug, actor)
        return await self._deps.store.memberships.list_for_org(org.id)

    async def set_role(self, slug: str, user_id: str, role: Role, actor: Actor) -> Membership:
        """Change a member's role; DENY ends their sessions in this organization."""
        org, mine = await require_admin(self._deps, slug, actor)
        current = await self._deps.store.memberships.get(org.id, user_id)
        if current is None:
            raise NotFound("no such member in this organization")
        if (Role.OWNER in (role, current.role)) and mine.role is not Role.OWNER:
            raise Forbidden("only an OWNER can grant or take the OWNER role")
        async with self._deps.store.transaction():
            if current.role is Role.OWNER and role is not Role.OWNER:
                await self._keep_an_owner(org.id)
            updated = replace(current, role=role)
            await self._deps.store.memberships.put(updated)
            if not role.is_active:
                await self._end_sessions(org.id, user_id, "membership denied")
            await self._deps.audit(
                "member.role",
                actor,
                org_id=org.id,
                subject=user_id,
                role=role.value,
                previous=current.role.value,
            )
        return updated

    async def remove(self, slug: str, user_id: str, actor: Actor) -> None:
        """Remove a member and end their sessions in this organization."""
        org, mine = await require_admin(self._deps, slug, actor)
        current = await self._deps.store.memberships.get(org.id, user_id)
        if current is None:
            raise NotFound("no such member in this organization")
        if current.role is Role.OWNER and mine.role is not Role.OWNER:
            raise Forbidden("only an OWNER can remove an OWNER")
        async with self._deps.store.transaction():
            if current.role is Role.OWNER:
                await self._keep_an_owner(org.id)
            await self._deps.store.memberships.delete(org.id, user_id)
            await self._end_sessions(org.id, user_id, "membership removed")
            await self._deps.audit("member.remove", actor, org_id=org.id, subject=user_id)

    async def _keep_an_owner(self, org_id: str) -> None:
        if await self._deps.store.memberships.count_role(org_id, Role.OWNER.value) <= 1:
            raise Conflict("an organization must keep at least one OWNER; appoint another first")

    async def _end_sessions(self, org_id: str, user_id: str, reason: str) -> None:
        count = await self._deps.sessions.revoke_for_user(
            user_id, reason, self._deps.now(), org_id=org_id
        )
        await self._deps.audit(
            "token.revoke",
            Actor(None),
            org_id=org_id,
            subject=user_id,
            reason=reason,
            sessions=str(count),
        )
