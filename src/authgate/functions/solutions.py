"""Publishing solutions, their members, and what a device may read of them.

Who may do what: an organization's OWNER and ADMIN manage every solution; a MAKER of the
organization may publish a new solution (and becomes its MAKER); a solution's MAKER
publishes new versions and manages its members; only a solution's members (USER or MAKER)
read its definition and call its functions. To anyone else a solution does not exist (404).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from authgate.crypto.randomness import new_id
from authgate.errors import Forbidden, NotFound, ValidationFailed
from authgate.functions.loader import load_solution
from authgate.functions.model import Solution
from authgate.functions.ports import (
    CallTarget,
    CredentialDirectory,
    SolutionMember,
    SolutionRecord,
    SolutionRepository,
    SolutionRole,
    SolutionVersion,
)
from authgate.functions.serialize import (
    public_definition,
    solution_from_document,
    solution_to_document,
)
from authgate.functions.validation import bind_credentials
from authgate.identity.access import require_admin, require_member
from authgate.identity.deps import Actor, IdentityDeps
from authgate.identity.emails import normalise_email
from authgate.identity.models import Membership, Organization, Role

PARSED_CACHE_SIZE = 256
"""Parsed definitions kept per process; versions never change, so entries never go stale."""


@dataclass(frozen=True, slots=True)
class Published:
    """The outcome of a publish: the solution as now in force, and the loader's warnings."""

    solution: SolutionRecord
    warnings: tuple[str, ...]


class SolutionService:
    """Publishes solutions and answers who may use them."""

    def __init__(
        self,
        deps: IdentityDeps,
        repository: SolutionRepository,
        credentials: CredentialDirectory,
        *,
        cache_size: int = PARSED_CACHE_SIZE,
    ) -> None:
        self._deps = deps
        self._repository = repository
        self._credentials = credentials
        self._parsed: OrderedDict[tuple[str, int], Solution] = OrderedDict()
        self._cache_size = cache_size

    async def publish(
        self, org_slug: str, name: str, files: Mapping[str, str], actor: Actor
    ) -> Published:
        """Validate a solution folder (relative path → text) and publish it as a new version."""
        org, membership = await require_member(self._deps, org_slug, actor)
        existing = await self._repository.get(org.id, name)
        await self._require_maker(org, membership, existing, actor, creating=existing is None)
        return await self._publish(org, name, existing, files, actor)

    async def publish_as_operator(
        self, org_slug: str, name: str | None, files: Mapping[str, str], actor: Actor
    ) -> Published:
        """:meth:`publish` from the server's own machine (``authgate solution publish``);
        ``name=None`` takes the name from ``solution.yaml``."""
        org = await self._operator_org(org_slug)
        target = name or load_solution(files).solution.name
        existing = await self._repository.get(org.id, target)
        return await self._publish(org, target, existing, files, actor)

    async def grant_as_operator(
        self, org_slug: str, name: str, email: str, role: SolutionRole, actor: Actor
    ) -> SolutionMember:
        """:meth:`set_member` from the server's own machine (``authgate solution grant``)."""
        org = await self._operator_org(org_slug)
        record = await self._repository.get(org.id, name)
        if record is None:
            raise NotFound(f"solution '{name[:64]}' not found")
        return await self._grant(org, record, email, role, actor)

    async def list_as_operator(self, org_slug: str) -> list[SolutionRecord]:
        """Every solution of the organization (``authgate solution list``)."""
        org = await self._operator_org(org_slug)
        return await self._repository.list_for_org(org.id)

    async def _operator_org(self, org_slug: str) -> Organization:
        org = await self._deps.store.orgs.get_by_slug(org_slug.lower())
        if org is None:
            raise NotFound(f"organization '{org_slug[:64]}' not found")
        return org

    async def _publish(
        self,
        org: Organization,
        name: str,
        existing: SolutionRecord | None,
        files: Mapping[str, str],
        actor: Actor,
    ) -> Published:
        loaded = load_solution(files)
        if loaded.solution.name != name:
            raise ValidationFailed(
                f"solution.yaml names the solution '{loaded.solution.name}' but it is being "
                f"published as '{name}'; make the two names the same"
            )
        available = await self._credentials.names(org.id, name)
        solution = bind_credentials(loaded.solution, available)
        now = self._deps.now()
        number = 1 if existing is None else existing.version + 1
        record = SolutionRecord(
            id=existing.id if existing else new_id(),
            org_id=org.id,
            name=name,
            title=solution.title,
            description=solution.description,
            version=number,
            updated_at=now,
        )
        warnings = tuple(str(warning) for warning in loaded.warnings)
        version = SolutionVersion(
            record.id, number, solution_to_document(solution), warnings, actor.user_id, now
        )
        async with self._deps.store.transaction():
            await self._repository.publish(record, version)
            if existing is None and actor.user_id is not None:
                member = SolutionMember(record.id, actor.user_id, SolutionRole.MAKER, now)
                await self._repository.set_member(member)
            await self._deps.audit(
                "solution.published",
                actor,
                org_id=org.id,
                subject=record.id,
                solution=name,
                version=str(number),
            )
        self._remember(record, solution)
        return Published(record, warnings)

    async def list_for_org(self, org_slug: str, actor: Actor) -> list[SolutionRecord]:
        """Every solution of the organization (OWNER, ADMIN and MAKER of the organization)."""
        org, membership = await require_member(self._deps, org_slug, actor)
        if not (membership.role.is_admin or membership.role is Role.MAKER):
            raise Forbidden("this needs the MAKER, ADMIN or OWNER role in the organization")
        return await self._repository.list_for_org(org.id)

    async def set_member(
        self, org_slug: str, name: str, email: str, role: SolutionRole, actor: Actor
    ) -> SolutionMember:
        """Give a member of the organization a role in the solution."""
        org, record = await self._managed(org_slug, name, actor)
        return await self._grant(org, record, email, role, actor)

    async def _grant(
        self,
        org: Organization,
        record: SolutionRecord,
        email: str,
        role: SolutionRole,
        actor: Actor,
    ) -> SolutionMember:
        user = await self._deps.store.users.get_by_email(normalise_email(email))
        member = None
        if user is not None:
            found = await self._deps.store.memberships.get(org.id, user.id)
            member = user if found is not None and found.role.is_active else None
        if member is None:
            raise NotFound(f"no active member of the organization has the email '{email[:254]}'")
        added = SolutionMember(record.id, member.id, role, self._deps.now())
        async with self._deps.store.transaction():
            await self._repository.set_member(added)
            await self._deps.audit(
                "solution.member_set", actor, org_id=org.id, subject=member.id,
                solution=record.name, role=role.value,
            )  # fmt: skip
        return added

    async def remove_member(self, org_slug: str, name: str, user_id: str, actor: Actor) -> None:
        """Take a user's role in the solution away."""
        org, record = await self._managed(org_slug, name, actor)
        async with self._deps.store.transaction():
            if not await self._repository.remove_member(record.id, user_id):
                raise NotFound("this user is not a member of the solution")
            await self._deps.audit(
                "solution.member_removed", actor, org_id=org.id, subject=user_id, solution=name
            )

    async def members(self, org_slug: str, name: str, actor: Actor) -> list[SolutionMember]:
        """The solution's members."""
        _, record = await self._managed(org_slug, name, actor)
        return await self._repository.list_members(record.id)

    async def delete(self, org_slug: str, name: str, actor: Actor) -> None:
        """Remove a solution, its versions and its members (OWNER or ADMIN)."""
        org, _ = await require_admin(self._deps, org_slug, actor)
        record = await self._repository.get(org.id, name)
        if record is None:
            raise NotFound(f"solution '{name[:64]}' not found")
        async with self._deps.store.transaction():
            await self._repository.delete(record.id)
            await self._deps.audit("solution.deleted", actor, org_id=org.id, subject=record.id)

    async def definition(
        self, org_id: str, name: str, user_id: str
    ) -> tuple[SolutionRecord, dict[str, Any]]:
        """What a member's device receives: functions and credential names, never values."""
        target, solution = await self.for_member(org_id, name, user_id)
        return target.solution, public_definition(solution)

    async def for_member(
        self, org_id: str, name: str, user_id: str, session_id: str | None = None
    ) -> tuple[CallTarget, Solution]:
        """The solution in force, when ``user_id`` is one of its members (else 404), with
        the member's profile and whether ``session_id`` (if given) is live."""
        session = None if session_id is None else (session_id, self._deps.now())
        target = await self._repository.call_target(org_id, name, user_id, session)
        if target is None or target.role is None:
            raise NotFound(f"solution '{name[:64]}' not found")
        return target, await self.parsed(target.solution)

    async def parsed(self, record: SolutionRecord) -> Solution:
        """The definition of the version in force, parsed once per process."""
        key = (record.id, record.version)
        found = self._parsed.get(key)
        if found is not None:
            self._parsed.move_to_end(key)
            return found
        version = await self._repository.version(record.id, record.version)
        if version is None:
            raise NotFound(f"solution '{record.name}' has no published version")
        solution = solution_from_document(version.document)
        self._remember(record, solution)
        return solution

    def _remember(self, record: SolutionRecord, solution: Solution) -> None:
        self._parsed[(record.id, record.version)] = solution
        while len(self._parsed) > self._cache_size:
            self._parsed.popitem(last=False)

    async def _managed(
        self, org_slug: str, name: str, actor: Actor
    ) -> tuple[Organization, SolutionRecord]:
        org, membership = await require_member(self._deps, org_slug, actor)
        record = await self._repository.get(org.id, name)
        if record is None:
            raise NotFound(f"solution '{name[:64]}' not found")
        await self._require_maker(org, membership, record, actor, creating=False)
        return org, record

    async def _require_maker(
        self,
        org: Organization,
        membership: Membership,
        record: SolutionRecord | None,
        actor: Actor,
        *,
        creating: bool,
    ) -> None:
        if membership.role.is_admin:
            return
        if creating and membership.role is Role.MAKER:
            return
        if record is not None and actor.user_id is not None:
            target = await self._repository.call_target(org.id, record.name, actor.user_id)
            if target is not None and target.role is SolutionRole.MAKER:
                return
        raise Forbidden(
            "this needs the solution's MAKER role, or the ADMIN or OWNER role in the organization"
        )
