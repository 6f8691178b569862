"""Organization settings and members (OWNER or ADMIN of that organization)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from authgate.http.deps import ServicesDep, UserDep
from authgate.http.routes.auth import Strict
from authgate.identity.access import require_member
from authgate.identity.models import DomainJoin, Organization, Role

router = APIRouter(prefix="/v1/orgs/{org}", tags=["organizations"])


class OrganizationView(BaseModel):
    id: str
    slug: str
    name: str
    domains: list[str]
    domain_join: DomainJoin
    request_email: str | None
    created_at: datetime

    @classmethod
    def of(cls, org: Organization) -> OrganizationView:
        return cls(
            id=org.id,
            slug=org.slug,
            name=org.name,
            domains=list(org.domains),
            domain_join=org.domain_join,
            request_email=org.request_email,
            created_at=org.created_at,
        )


@router.get("", response_model=OrganizationView)
async def get_org(org: str, caller: UserDep, services: ServicesDep) -> OrganizationView:
    """The organization, to its members."""
    found, _ = await require_member(services.deps, org, caller.actor)
    return OrganizationView.of(found)


class OrganizationPatch(Strict):
    name: str | None = Field(default=None, max_length=200)
    domains: list[str] | None = Field(
        default=None, max_length=50, description="Verified email domains."
    )
    domain_join: DomainJoin | None = None
    request_email: str | None = Field(default=None, max_length=254)


@router.patch("", response_model=OrganizationView)
async def update_org(
    org: str, body: OrganizationPatch, caller: UserDep, services: ServicesDep
) -> OrganizationView:
    """Change name, verified domains, the domain-join setting or the request address.

    An admin can add only the domain of their own verified email (others through the
    operator's `authgate admin org-domains`); `request_email: null` clears the address.
    """
    updated = await services.organizations.update(
        org,
        caller.actor,
        name=body.name,
        domains=body.domains,
        domain_join=body.domain_join,
        request_email=body.request_email,
    )
    return OrganizationView.of(updated)


class MemberView(BaseModel):
    user_id: str
    email: str
    display_name: str
    role: Role
    disabled: bool
    since: datetime


@router.get("/members", response_model=list[MemberView])
async def list_members(org: str, caller: UserDep, services: ServicesDep) -> list[MemberView]:
    """Every member and role."""
    return [
        MemberView(
            user_id=u.id,
            email=u.email,
            display_name=u.display_name,
            role=m.role,
            disabled=u.disabled,
            since=m.created_at,
        )
        for m, u in await services.organizations.members(org, caller.actor)
    ]


class RoleChange(Strict):
    role: Role


@router.put("/members/{user_id}/role", status_code=204)
async def set_role(
    org: str, user_id: str, body: RoleChange, caller: UserDep, services: ServicesDep
) -> Response:
    """Change a member's role; DENY suspends them and ends their sessions at once."""
    await services.organizations.set_role(org, user_id, body.role, caller.actor)
    return Response(status_code=204)


@router.delete("/members/{user_id}", status_code=204)
async def remove_member(org: str, user_id: str, caller: UserDep, services: ServicesDep) -> Response:
    """Remove a member; their sessions in this organization end at once."""
    await services.organizations.remove(org, user_id, caller.actor)
    return Response(status_code=204)
