"""Grants of third-party apps: a person's own consents, and an app's grants for its admins.

``GET /v1/me/consents`` lists the apps the caller allowed; ``DELETE /v1/me/consents/{client_id}``
withdraws one. ``GET /v1/orgs/{org}/oauth-clients/{client_id}/grants`` lists who allowed an
app of the organization; ``DELETE …/grants/{user_id}`` withdraws a person's grant (OWNER and
ADMIN only; another organization's admin gets 404). A withdrawal ends the app's sessions for
that person at once: its refresh tokens stop working.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from authgate.errors import ServiceUnavailable
from authgate.http.deps import ServicesDep, UserDep
from authgate.http.errors import NO_STORE
from authgate.http.services import Services
from authgate.identity.models import User
from authgate.provider.consents import ConsentService
from authgate.provider.models import Consent, OAuthClient

router = APIRouter(tags=["provider"])

_CLIENT_ID = Path(min_length=1, max_length=128, description="The app's client id.")
_USER_ID = Path(min_length=1, max_length=64, description="The person's user id.")


def consents(services: Services) -> ConsentService:
    """The consent service (wired by ``authgate.app`` with the provider)."""
    if services.consents is None:
        raise ServiceUnavailable("the OAuth provider is not available on this server")
    return services.consents


class AppConsentView(BaseModel):
    """An app the caller allowed, and what it may do."""

    client_id: str
    name: str
    logo_uri: str | None
    scopes: list[str] = Field(description="The scopes the caller allowed, sorted.")
    granted_at: datetime = Field(description="When the caller first allowed the app.")
    updated_at: datetime = Field(description="When the caller last allowed more scopes.")

    @classmethod
    def of(cls, consent: Consent, client: OAuthClient) -> AppConsentView:
        return cls(
            client_id=client.client_id,
            name=client.name,
            logo_uri=client.logo_uri,
            scopes=consent.scope.split(),
            granted_at=consent.created_at,
            updated_at=consent.updated_at,
        )


class GrantView(BaseModel):
    """A person who allowed the app, and what they allowed."""

    user_id: str
    email: str
    display_name: str
    scopes: list[str] = Field(description="The scopes the person allowed, sorted.")
    granted_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, consent: Consent, user: User) -> GrantView:
        return cls(
            user_id=user.id,
            email=user.email,
            display_name=user.display_name,
            scopes=consent.scope.split(),
            granted_at=consent.created_at,
            updated_at=consent.updated_at,
        )


@router.get("/v1/me/consents", response_model=list[AppConsentView])
async def list_my_consents(
    caller: UserDep, services: ServicesDep, response: Response
) -> list[AppConsentView]:
    """The apps you allowed to sign you in, by name."""
    response.headers.update(NO_STORE)
    found = await consents(services).list_mine(caller.actor)
    return [AppConsentView.of(consent, client) for consent, client in found]


@router.delete("/v1/me/consents/{client_id}", status_code=204)
async def revoke_my_consent(
    caller: UserDep, services: ServicesDep, client_id: str = _CLIENT_ID
) -> Response:
    """Withdraw your consent to an app; its sessions for you end at once."""
    await consents(services).revoke_mine(client_id, caller.actor)
    return Response(status_code=204, headers=NO_STORE)


@router.get("/v1/orgs/{org}/oauth-clients/{client_id}/grants", response_model=list[GrantView])
async def list_grants(
    org: str,
    caller: UserDep,
    services: ServicesDep,
    response: Response,
    client_id: str = _CLIENT_ID,
) -> list[GrantView]:
    """Who allowed an app of the organization, by email (OWNER or ADMIN)."""
    response.headers.update(NO_STORE)
    found = await consents(services).list_for_client(org, client_id, caller.actor)
    return [GrantView.of(consent, user) for consent, user in found]


@router.delete("/v1/orgs/{org}/oauth-clients/{client_id}/grants/{user_id}", status_code=204)
async def revoke_grant(
    org: str,
    caller: UserDep,
    services: ServicesDep,
    client_id: str = _CLIENT_ID,
    user_id: str = _USER_ID,
) -> Response:
    """Withdraw a person's grant to an app of the organization; the app's sessions for
    them end at once (OWNER or ADMIN)."""
    await consents(services).revoke_for_client(org, client_id, user_id, caller.actor)
    return Response(status_code=204, headers=NO_STORE)
