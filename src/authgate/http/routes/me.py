"""The signed-in user's own view: profile, memberships, requests to join."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from authgate.errors import InvalidToken
from authgate.http.deps import ServicesDep, UserDep
from authgate.http.routes.auth import Strict

router = APIRouter(prefix="/v1", tags=["me"])


class MembershipView(BaseModel):
    organization: str
    name: str
    role: str


class MeView(BaseModel):
    id: str
    email: str
    display_name: str
    email_verified: bool
    organization: str
    roles: list[str]
    memberships: list[MembershipView]


@router.get("/me", response_model=MeView)
async def me(caller: UserDep, services: ServicesDep) -> MeView:
    """Who the token belongs to, and every organization they are in."""
    user = await services.deps.store.users.get(caller.claims.subject)
    if user is None or user.disabled:
        raise InvalidToken("the user of this token no longer exists or is disabled")
    memberships = await services.deps.store.memberships.list_for_user(user.id)
    current = next((o.slug for m, o in memberships if o.id == caller.claims.org_id), "")
    return MeView(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        email_verified=user.email_verified,
        organization=current,
        roles=list(caller.claims.roles),
        memberships=[
            MembershipView(organization=o.slug, name=o.name, role=m.role.value)
            for m, o in memberships
        ],
    )


class JoinBySlug(Strict):
    organization: str = Field(min_length=1, max_length=64)


class JoinRequestView(BaseModel):
    id: str
    organization: str
    status: str


@router.post("/join-requests", status_code=201, response_model=JoinRequestView)
async def request_to_join(
    body: JoinBySlug, caller: UserDep, services: ServicesDep
) -> JoinRequestView:
    """Ask to join another organization by its slug; its admins decide."""
    user = await services.deps.store.users.get(caller.claims.subject)
    if user is None:
        raise InvalidToken("the user of this token no longer exists")
    request = await services.join_requests.request_by_slug(body.organization, user, caller.actor)
    return JoinRequestView(
        id=request.id, organization=body.organization.lower(), status=request.status.value
    )
