"""Who may act on an organization: members see it, OWNER and ADMIN manage it, and the
server's operator (the CLI on the server's machine) acts on any.

An organization the actor does not belong to answers 404, as if it did not exist, so one
tenant cannot even confirm another's slug; a member without the role gets 403.
"""

from __future__ import annotations

from authgate.errors import Forbidden, NotFound
from authgate.identity.deps import Actor, IdentityDeps
from authgate.identity.models import Membership, Organization


async def require_member(
    deps: IdentityDeps, slug: str, actor: Actor
) -> tuple[Organization, Membership]:
    """The organization and the actor's active membership in it."""
    org = await deps.store.orgs.get_by_slug(slug.lower())
    membership = None
    if org is not None and actor.user_id is not None:
        membership = await deps.store.memberships.get(org.id, actor.user_id)
    if org is None or membership is None or not membership.role.is_active:
        raise NotFound(f"organization '{slug[:64]}' not found")
    return org, membership


async def require_admin(
    deps: IdentityDeps, slug: str, actor: Actor
) -> tuple[Organization, Membership]:
    """Like :func:`require_member`, and the role must be OWNER or ADMIN."""
    org, membership = await require_member(deps, slug, actor)
    if not membership.role.is_admin:
        raise Forbidden("this needs the ADMIN or OWNER role in the organization")
    return org, membership


async def organization_for_operator(deps: IdentityDeps, slug: str) -> Organization:
    """The organization the operator acts on, by slug alone (no membership stands behind
    the CLI)."""
    org = await deps.store.orgs.get_by_slug(slug.lower())
    if org is None:
        raise NotFound(f"organization '{slug[:64]}' not found")
    return org
