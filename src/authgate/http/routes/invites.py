"""Invitations into an organization (OWNER or ADMIN)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel

from authgate.http.deps import ServicesDep, UserDep
from authgate.http.routes.auth import Email, Strict
from authgate.identity.models import Invite, Role

router = APIRouter(prefix="/v1/orgs/{org}/invites", tags=["invites"])


class InviteRequest(Strict):
    email: str = Email
    role: Role = Role.USER


class InviteView(BaseModel):
    id: str
    email: str
    role: Role
    status: str
    created_at: datetime
    expires_at: datetime
    sent_count: int

    @classmethod
    def of(cls, invite: Invite) -> InviteView:
        status = "accepted" if invite.accepted_at else "revoked" if invite.revoked_at else "pending"
        return cls(
            id=invite.id,
            email=invite.email,
            role=invite.role,
            status=status,
            created_at=invite.created_at,
            expires_at=invite.expires_at,
            sent_count=invite.sent_count,
        )


@router.post("", status_code=201, response_model=InviteView)
async def create_invite(
    org: str, body: InviteRequest, caller: UserDep, services: ServicesDep
) -> InviteView:
    """Invite someone by email; the link is emailed, never returned."""
    return InviteView.of(await services.invites.create(org, body.email, body.role, caller.actor))


@router.get("", response_model=list[InviteView])
async def list_invites(org: str, caller: UserDep, services: ServicesDep) -> list[InviteView]:
    """Every invite, newest first."""
    return [InviteView.of(i) for i in await services.invites.list(org, caller.actor)]


@router.post("/{invite_id}/resend", response_model=InviteView)
async def resend_invite(
    org: str, invite_id: str, caller: UserDep, services: ServicesDep
) -> InviteView:
    """Send a fresh link; the previous one stops working."""
    return InviteView.of(await services.invites.resend(org, invite_id, caller.actor))


@router.delete("/{invite_id}", status_code=204)
async def revoke_invite(
    org: str, invite_id: str, caller: UserDep, services: ServicesDep
) -> Response:
    """Revoke an invite; its link stops working."""
    await services.invites.revoke(org, invite_id, caller.actor)
    return Response(status_code=204)
