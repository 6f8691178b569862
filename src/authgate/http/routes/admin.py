"""Organization administration: requests to join, service clients, the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from authgate.http.deps import ServicesDep, UserDep
from authgate.http.routes.auth import Strict
from authgate.identity.access import require_admin
from authgate.identity.models import RequestStatus
from authgate.tokens.models import ServiceClient

router = APIRouter(prefix="/v1/orgs/{org}", tags=["administration"])


class JoinRequestAdminView(BaseModel):
    id: str
    user_id: str
    email: str
    display_name: str
    status: RequestStatus
    created_at: datetime
    decided_at: datetime | None


@router.get("/join-requests", response_model=list[JoinRequestAdminView])
async def list_join_requests(
    org: str,
    caller: UserDep,
    services: ServicesDep,
    status: RequestStatus | None = Query(default=RequestStatus.PENDING),
) -> list[JoinRequestAdminView]:
    """Requests to join (pending by default)."""
    return [
        JoinRequestAdminView(
            id=r.id,
            user_id=u.id,
            email=u.email,
            display_name=u.display_name,
            status=r.status,
            created_at=r.created_at,
            decided_at=r.decided_at,
        )
        for r, u in await services.join_requests.list(org, caller.actor, status)
    ]


class Decision(Strict):
    approve: bool


@router.post("/join-requests/{request_id}/decision", response_model=JoinRequestAdminView)
async def decide_join_request(
    org: str, request_id: str, body: Decision, caller: UserDep, services: ServicesDep
) -> JoinRequestAdminView:
    """Approve (the user joins as USER) or deny; the user is emailed."""
    request = await services.join_requests.decide(org, request_id, body.approve, caller.actor)
    user = await services.deps.store.users.get(request.user_id)
    return JoinRequestAdminView(
        id=request.id,
        user_id=request.user_id,
        email=user.email if user else "",
        display_name=user.display_name if user else "",
        status=request.status,
        created_at=request.created_at,
        decided_at=request.decided_at,
    )


class ClientRequest(Strict):
    name: str = Field(min_length=1, max_length=200)
    scopes: str = Field(default="", max_length=2048, description="Space-separated scopes.")


class ClientView(BaseModel):
    client_id: str
    name: str
    scopes: list[str]
    created_at: datetime
    disabled: bool

    @classmethod
    def of(cls, client: ServiceClient) -> ClientView:
        return cls(
            client_id=client.client_id,
            name=client.name,
            scopes=list(client.scopes),
            created_at=client.created_at,
            disabled=client.disabled,
        )


class ClientWithSecret(ClientView):
    client_secret: str = Field(description="Shown once; store it now.")


@router.post("/clients", status_code=201, response_model=ClientWithSecret)
async def create_client(
    org: str, body: ClientRequest, caller: UserDep, services: ServicesDep, response: Response
) -> ClientWithSecret:
    """A service client for the client-credentials grant; the secret is shown only here."""
    client, secret = await services.clients.create(org, body.name, body.scopes, caller.actor)
    response.headers["Cache-Control"] = "no-store"
    return ClientWithSecret(**ClientView.of(client).model_dump(), client_secret=secret)


@router.get("/clients", response_model=list[ClientView])
async def list_clients(org: str, caller: UserDep, services: ServicesDep) -> list[ClientView]:
    """The organization's service clients (never their secrets)."""
    return [ClientView.of(c) for c in await services.clients.list(org, caller.actor)]


class NewSecret(BaseModel):
    client_id: str
    client_secret: str


@router.post("/clients/{client_id}/secret", response_model=NewSecret)
async def rotate_client_secret(
    org: str, client_id: str, caller: UserDep, services: ServicesDep, response: Response
) -> NewSecret:
    """Replace the secret; the old one stops working within seconds on every node."""
    secret = await services.clients.rotate_secret(org, client_id, caller.actor)
    response.headers["Cache-Control"] = "no-store"
    return NewSecret(client_id=client_id, client_secret=secret)


@router.delete("/clients/{client_id}", status_code=204)
async def delete_client(
    org: str, client_id: str, caller: UserDep, services: ServicesDep
) -> Response:
    """Remove a service client."""
    await services.clients.delete(org, client_id, caller.actor)
    return Response(status_code=204)


class AuditView(BaseModel):
    id: str
    at: datetime
    action: str
    outcome: str
    actor_id: str | None
    subject: str | None
    ip: str | None
    details: dict[str, Any]


@router.get("/audit", response_model=list[AuditView])
async def audit_log(
    org: str,
    caller: UserDep,
    services: ServicesDep,
    limit: int = Query(default=100, ge=1, le=1000),
    before: datetime | None = None,
) -> list[AuditView]:
    """Security events of the organization, newest first."""
    found, _ = await require_admin(services.deps, org, caller.actor)
    events = await services.deps.store.audit.list(found.id, limit=limit, before=before)
    return [
        AuditView(
            id=e.id,
            at=e.at,
            action=e.action,
            outcome=e.outcome,
            actor_id=e.actor_id,
            subject=e.subject,
            ip=e.ip,
            details=e.details,
        )
        for e in events
    ]
