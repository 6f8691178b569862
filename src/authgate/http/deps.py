"""Request dependencies: the services, the caller's address, the bearer token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from authgate.errors import InvalidToken, Unauthenticated
from authgate.functions.calls import SESSION_ENDED
from authgate.http.services import Services
from authgate.identity.deps import Actor
from authgate.tokens.access import AccessClaims


async def get_services(request: Request) -> Services:
    """The process's services (set by ``authgate.app``).

    Dependencies are ``async`` even when they do not await: FastAPI runs a plain ``def``
    dependency in a worker thread, a thread hop on every request for nothing.
    """
    services: Services = request.app.state.services
    return services


def client_ip(request: Request) -> str | None:
    """The peer address (uvicorn applies X-Forwarded-For only when proxies are trusted)."""
    return request.client.host if request.client else None


def parse_bearer(header: str | None) -> str:
    """The token of an RFC 6750 §2.1 ``Authorization: Bearer`` header."""
    if not header:
        raise Unauthenticated("this needs an access token: send 'Authorization: Bearer <token>'")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise InvalidToken("the Authorization header must be 'Bearer <token>'")
    return token


@dataclass(frozen=True, slots=True)
class Caller:
    """A request made with a valid access token."""

    claims: AccessClaims
    actor: Actor


async def authenticate(
    services: Services, authorization: str | None, ip: str | None, *, check_session: bool = True
) -> Caller:
    """Verify a bearer token; a user's token must belong to a live session.

    ``check_session=False`` leaves the session check to the caller, which then must make it
    (the function-call path makes it in the same query as its own lookup).
    """
    claims = await services.access.verify_current(parse_bearer(authorization))
    if check_session:
        await require_live_session(services, claims.session_id)
    return Caller(claims, Actor(claims.subject if claims.is_user else None, ip))


async def require_live_session(services: Services, session_id: str | None) -> None:
    """:class:`InvalidToken` unless the token's session (if it has one) is live."""
    if session_id is not None and not await services.sessions.session_is_live(session_id):
        raise InvalidToken(SESSION_ENDED)


def require_user(caller: Caller) -> Caller:
    """The caller, when it is a signed-in user (not a service client)."""
    if not caller.claims.is_user:
        raise InvalidToken("this needs a user's access token, not a service client's")
    return caller


async def current_caller(
    request: Request, services: Annotated[Services, Depends(get_services)]
) -> Caller:
    """Verify the bearer token; a user's token must belong to a live session."""
    return await authenticate(services, request.headers.get("authorization"), client_ip(request))


async def current_user(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
    """Like :func:`current_caller`, for a signed-in user (not a service client)."""
    return require_user(caller)


async def anonymous_actor(request: Request) -> Actor:
    """An unauthenticated caller, known by address only."""
    return Actor(None, client_ip(request))


ServicesDep = Annotated[Services, Depends(get_services)]
UserDep = Annotated[Caller, Depends(current_user)]
AnonymousDep = Annotated[Actor, Depends(anonymous_actor)]
