"""Sign-in, sessions, registration, verification and passwords for people and devices."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from authgate.http.deps import AnonymousDep, ServicesDep, UserDep
from authgate.http.errors import NO_STORE
from authgate.tokens.sessions import DEVICE_CLIENT_ID

router = APIRouter(prefix="/v1/auth", tags=["auth"])

Email = Field(min_length=3, max_length=254, examples=["ada@example.com"])
Password = Field(min_length=1, max_length=4096, description="8 to 1,024 characters.")


class Strict(BaseModel):
    """Request bodies reject unknown fields, so typos are errors rather than ignored."""

    model_config = ConfigDict(extra="forbid")


class LoginRequest(Strict):
    email: str = Email
    password: str = Password
    organization: str | None = Field(default=None, max_length=64, description="Slug or id.")
    client_id: str = Field(default=DEVICE_CLIENT_ID, max_length=128)
    scope: str | None = Field(default=None, max_length=2048)


class TokenBody(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    scope: str
    refresh_token: str | None = None
    organization: str | None = None


@router.post("/login", response_model=TokenBody, response_model_exclude_none=True)
async def login(body: LoginRequest, services: ServicesDep, actor: AnonymousDep) -> Response:
    """Password sign-in; returns an OAuth 2.0 token response (RFC 6749 §5.1)."""
    tokens = await services.sessions.password_login(
        body.email,
        body.password,
        actor,
        organization=body.organization,
        client_id=body.client_id,
        scope=body.scope,
    )
    # Returned as a response: the body already is the documented model, so FastAPI need not
    # validate and serialize it again on the sign-in path.
    return JSONResponse(tokens.as_json(), headers=NO_STORE)


@router.post("/logout", status_code=204)
async def logout(caller: UserDep, services: ServicesDep) -> Response:
    """End this session: its refresh tokens stop working at once."""
    assert caller.claims.session_id is not None
    await services.sessions.end(caller.claims.session_id, caller.actor)
    return Response(status_code=204)


class RegisterRequest(Strict):
    email: str = Email
    password: str = Password
    display_name: str = Field(min_length=1, max_length=200)
    organization: str | None = Field(
        default=None, max_length=64, description="Slug of an organization to ask to join."
    )


class Accepted(BaseModel):
    status: str = "accepted"
    message: str


@router.post("/register", status_code=202, response_model=Accepted)
async def register(body: RegisterRequest, services: ServicesDep, actor: AnonymousDep) -> Accepted:
    """Create an account; a verification link is emailed. Same answer for a known email."""
    await services.accounts.register(
        body.email, body.password, body.display_name, actor, body.organization
    )
    return Accepted(message="if the address can be registered, a verification link was sent")


class VerifyRequest(Strict):
    token: str = Field(min_length=1, max_length=256)
    organization: str | None = Field(default=None, max_length=64)


class VerifyResult(BaseModel):
    email: str
    joined: list[str]
    requested: list[str]


@router.post("/verify-email", response_model=VerifyResult)
async def verify_email(
    body: VerifyRequest, services: ServicesDep, actor: AnonymousDep
) -> VerifyResult:
    """Verify the address; join or ask to join by domain, or the named organization."""
    user = await services.accounts.verify_email(body.token, actor)
    joined: list[str] = []
    requested: list[str] = []
    if body.organization:
        request = await services.join_requests.request_by_slug(body.organization, user, actor)
        org = await services.deps.store.orgs.get(request.org_id)
        requested.append(org.slug if org else body.organization)
    else:
        for org in await services.join_requests.join_by_domain(user, actor):
            membership = await services.deps.store.memberships.get(org.id, user.id)
            (joined if membership else requested).append(org.slug)
    return VerifyResult(email=user.email, joined=joined, requested=requested)


class ForgotRequest(Strict):
    email: str = Email


@router.post("/password/forgot", status_code=202, response_model=Accepted)
async def forgot_password(
    body: ForgotRequest, services: ServicesDep, actor: AnonymousDep
) -> Accepted:
    """Email a reset link if the account exists; the answer is the same either way."""
    await services.accounts.request_reset(body.email, actor)
    return Accepted(message="if the address has an account, a reset link was sent")


class ResetRequest(Strict):
    token: str = Field(min_length=1, max_length=256)
    password: str = Password


@router.post("/password/reset", status_code=204)
async def reset_password(
    body: ResetRequest, services: ServicesDep, actor: AnonymousDep
) -> Response:
    """Set a new password from a reset link; every session of the user ends."""
    await services.accounts.reset_password(body.token, body.password, actor)
    return Response(status_code=204)


class ChangeRequest(Strict):
    current_password: str = Password
    new_password: str = Password


@router.post("/password/change", status_code=204)
async def change_password(body: ChangeRequest, caller: UserDep, services: ServicesDep) -> Response:
    """Change the password; the user's other sessions end, this one stays."""
    await services.accounts.change_password(
        caller.claims.subject,
        body.current_password,
        body.new_password,
        caller.actor,
        caller.claims.session_id,
    )
    return Response(status_code=204)


class AcceptInviteRequest(Strict):
    token: str = Field(min_length=1, max_length=256)
    password: str = Password
    display_name: str | None = Field(default=None, max_length=200)


@router.post("/invites/accept", response_model=TokenBody, response_model_exclude_none=True)
async def accept_invite(
    body: AcceptInviteRequest, services: ServicesDep, actor: AnonymousDep, response: Response
) -> dict[str, Any]:
    """Accept an invitation (set a password, or confirm the existing one) and sign in."""
    user, org, membership = await services.invites.accept(
        body.token, body.password, body.display_name, actor
    )
    tokens = await services.sessions.start(user, org, membership, actor)
    response.headers.update(NO_STORE)
    return tokens.as_json()
