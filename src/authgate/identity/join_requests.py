"""Requests to join an organization, by the user's verified email domain or by slug.

A verified email whose domain an organization verified joins at once when that organization
chose AUTO, or files a request when it chose MANUAL; by slug, a request is always filed.
Admins list and decide requests; the organization's request address and the user are told.
"""

from __future__ import annotations

from authgate.crypto.randomness import new_id
from authgate.errors import Conflict, Forbidden, NotFound
from authgate.identity.access import require_admin
from authgate.identity.deps import Actor, IdentityDeps
from authgate.identity.emails import domain_of
from authgate.identity.models import (
    DomainJoin,
    JoinRequest,
    Membership,
    Organization,
    RequestStatus,
    Role,
    User,
)


class JoinRequestService:
    """Filing and deciding requests to join."""

    def __init__(self, deps: IdentityDeps) -> None:
        self._deps = deps

    async def join_by_domain(self, user: User, actor: Actor) -> list[Organization]:
        """After verification: AUTO organizations of the domain admit, MANUAL ones get a request."""
        if not user.email_verified:
            raise Forbidden("verify your email address first")
        touched = []
        for org in await self._deps.store.orgs.find_by_domain(domain_of(user.email)):
            if org.domain_join is DomainJoin.AUTO:
                if await self._deps.store.memberships.get(org.id, user.id) is None:
                    await self._admit(org, user, actor, automatic=True)
                    touched.append(org)
            elif (
                org.domain_join is DomainJoin.MANUAL
                and await self._file(org, user, actor) is not None
            ):
                touched.append(org)
        return touched

    async def request_by_slug(self, slug: str, user: User, actor: Actor) -> JoinRequest:
        """File a request to the organization named by ``slug``."""
        if not user.email_verified:
            raise Forbidden("verify your email address first")
        org = await self._deps.store.orgs.get_by_slug(slug.lower())
        if org is None:
            raise NotFound(f"organization '{slug[:64]}' not found")
        request = await self._file(org, user, actor)
        if request is None:
            raise Conflict("you are already a member, or a request is already pending")
        return request

    async def list(
        self, slug: str, actor: Actor, status: RequestStatus | None = RequestStatus.PENDING
    ) -> list[tuple[JoinRequest, User]]:
        """Requests of the organization (pending by default)."""
        org, _ = await require_admin(self._deps, slug, actor)
        return await self._deps.store.join_requests.list_for_org(org.id, status)

    async def decide(self, slug: str, request_id: str, approve: bool, actor: Actor) -> JoinRequest:
        """Approve (the user joins as USER) or deny."""
        org, _ = await require_admin(self._deps, slug, actor)
        request = await self._deps.store.join_requests.get(org.id, request_id)
        if request is None:
            raise NotFound("no such request in this organization")
        user = await self._deps.store.users.get(request.user_id)
        status = RequestStatus.APPROVED if approve else RequestStatus.DENIED
        assert actor.user_id is not None  # require_admin guarantees a signed-in actor
        async with self._deps.store.transaction():
            decided = await self._deps.store.join_requests.decide(
                request.id, status, actor.user_id, self._deps.now()
            )
            if not decided or user is None:
                raise Conflict("this request was already decided")
            if approve:
                await self._deps.store.memberships.put(
                    Membership(org.id, user.id, Role.USER, self._deps.now())
                )
            await self._deps.audit(
                "join.approve" if approve else "join.deny", actor, org_id=org.id, subject=user.id
            )
        await self._deps.mailer.send(
            user.email,
            "join_request_decided",
            {
                "org_name": org.name,
                "display_name": user.display_name,
                "decision": "approved" if approve else "denied",
            },
        )
        refreshed = await self._deps.store.join_requests.get(org.id, request.id)
        assert refreshed is not None
        return refreshed

    async def _file(self, org: Organization, user: User, actor: Actor) -> JoinRequest | None:
        if await self._deps.store.memberships.get(org.id, user.id) is not None:
            return None
        if await self._deps.store.join_requests.find_pending(org.id, user.id) is not None:
            return None
        request = JoinRequest(new_id(), org.id, user.id, RequestStatus.PENDING, self._deps.now())
        await self._deps.store.join_requests.create(request)
        await self._deps.audit("join.request", actor, org_id=org.id, subject=user.id)
        if org.request_email:
            await self._deps.mailer.send(
                org.request_email,
                "join_request_received",
                {
                    "org_name": org.name,
                    "user_email": user.email,
                    "user_name": user.display_name,
                    "link": self._deps.link(f"/v1/orgs/{org.slug}/join-requests"),
                },
            )
        await self._deps.mailer.send(
            user.email,
            "join_request_submitted",
            {"org_name": org.name, "display_name": user.display_name},
        )
        return request

    async def _admit(self, org: Organization, user: User, actor: Actor, *, automatic: bool) -> None:
        await self._deps.store.memberships.put(
            Membership(org.id, user.id, Role.USER, self._deps.now())
        )
        await self._deps.audit(
            "join.auto" if automatic else "join.approve", actor, org_id=org.id, subject=user.id
        )
        await self._deps.mailer.send(
            user.email, "welcome", {"org_name": org.name, "display_name": user.display_name}
        )
