"""Registered OAuth clients: the admin API, and dynamic registration (RFC 7591).

``/v1/orgs/{org}/oauth-clients`` creates (201, the secret shown once), lists, describes,
replaces (``PUT``), deletes (204) and re-keys (``POST …/secret``) an organization's apps;
OWNER and ADMIN only, another organization's admin gets 404. No response holds a secret's
hash, and a secret only the response that issued it. ``POST /oauth/register`` lets an app
register itself with an admin's access token when the operator turned it on; its errors
have the RFC 7591 §3.2.2 form ``{"error", "error_description"}``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from authgate.errors import AuthgateError, InvalidToken, ServiceUnavailable
from authgate.http.deps import ServicesDep, UserDep, authenticate, client_ip
from authgate.http.errors import NO_STORE, error_headers
from authgate.http.routes.auth import Strict
from authgate.http.services import Services
from authgate.provider.client_metadata import MAX_NAME_CHARS, MAX_URIS, ClientSpec
from authgate.provider.clients import ClientRegistry
from authgate.provider.errors import InvalidClientMetadata
from authgate.provider.models import (
    ApplicationType,
    AuthMethod,
    ClientType,
    GrantType,
    OAuthClient,
)
from authgate.provider.registration import REGISTRATION_PATH, register, require_enabled
from authgate.provider.scopes import SUPPORTED_SCOPES

router = APIRouter(tags=["provider"])

_PREFIX = "/v1/orgs/{org}/oauth-clients"
_CLIENT_ID = Path(min_length=1, max_length=128, description="The app's client id.")
_EXAMPLE: dict[str, Any] = {
    "name": "Planner",
    "client_type": "confidential",
    "application_type": "web",
    "redirect_uris": ["https://planner.example.com/callback"],
    "post_logout_redirect_uris": ["https://planner.example.com/signed-out"],
    "grant_types": ["authorization_code", "refresh_token"],
    "scopes": ["openid", "profile", "email", "offline_access"],
    "logo_uri": "https://planner.example.com/logo.png",
}


def registry(services: Services) -> ClientRegistry:
    """The client registry (wired by ``authgate.app``)."""
    if services.oauth_clients is None:
        raise ServiceUnavailable("the OAuth provider is not available on this server")
    return services.oauth_clients


class ClientBody(Strict):
    """An app's metadata. Left out: a confidential web app with the authorization_code
    grant, authenticating with client_secret_basic, allowed openid, profile and email (and
    offline_access with the refresh_token grant), ID tokens in RS256."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS, description="Shown at consent.")
    client_type: ClientType | None = Field(
        default=None, description="Default: public when the auth method is 'none'."
    )
    application_type: ApplicationType = ApplicationType.WEB
    redirect_uris: list[str] = Field(default_factory=list, max_length=MAX_URIS)
    post_logout_redirect_uris: list[str] = Field(default_factory=list, max_length=MAX_URIS)
    grant_types: list[GrantType] = Field(
        default_factory=lambda: [GrantType.AUTHORIZATION_CODE], max_length=len(GrantType)
    )
    scopes: list[str] | None = Field(
        default=None, max_length=len(SUPPORTED_SCOPES), description="Default: see above."
    )
    token_endpoint_auth_method: AuthMethod | None = None
    id_token_signed_response_alg: str | None = Field(default=None, max_length=16)
    logo_uri: str | None = Field(default=None, max_length=2048)
    disabled: bool = Field(default=False, description="A disabled app cannot sign anyone in.")

    def spec(self) -> ClientSpec:
        """The domain's view of this body."""
        method = self.token_endpoint_auth_method
        return ClientSpec(
            name=self.name,
            redirect_uris=tuple(self.redirect_uris),
            post_logout_redirect_uris=tuple(self.post_logout_redirect_uris),
            grant_types=tuple(grant.value for grant in self.grant_types),
            scopes=None if self.scopes is None else tuple(self.scopes),
            client_type=None if self.client_type is None else self.client_type.value,
            application_type=self.application_type.value,
            token_endpoint_auth_method=None if method is None else method.value,
            id_token_signed_response_alg=self.id_token_signed_response_alg,
            logo_uri=self.logo_uri,
            disabled=self.disabled,
        )


class ClientView(BaseModel):
    """A registered app. There is deliberately no way to read its secret back."""

    client_id: str
    name: str
    client_type: ClientType
    application_type: ApplicationType
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    grant_types: list[GrantType]
    scopes: list[str]
    token_endpoint_auth_method: AuthMethod
    id_token_signed_response_alg: str
    logo_uri: str | None
    disabled: bool
    dynamic: bool = Field(description="Registered by the app itself (RFC 7591).")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, client: OAuthClient) -> ClientView:
        return cls(
            client_id=client.client_id,
            name=client.name,
            client_type=client.client_type,
            application_type=client.application_type,
            redirect_uris=list(client.redirect_uris),
            post_logout_redirect_uris=list(client.post_logout_redirect_uris),
            grant_types=list(client.grant_types),
            scopes=list(client.scopes),
            token_endpoint_auth_method=client.token_endpoint_auth_method,
            id_token_signed_response_alg=client.id_token_signed_response_alg,
            logo_uri=client.logo_uri,
            disabled=client.disabled,
            dynamic=client.dynamic,
            created_at=client.created_at,
            updated_at=client.updated_at,
        )


class ClientWithSecret(ClientView):
    """A client as it was just created or replaced, with the secret it was issued then."""

    client_secret: str | None = Field(
        description="Shown only in this response; store it now. None for a public client, "
        "and when a replacement kept the existing secret."
    )


class NewClientSecret(BaseModel):
    """A confidential client's new secret; the old one stops working."""

    client_id: str
    client_secret: str = Field(description="Shown only in this response; store it now.")


def _with_secret(client: OAuthClient, secret: str | None, response: Response) -> ClientWithSecret:
    response.headers.update(NO_STORE)
    return ClientWithSecret(**ClientView.of(client).model_dump(), client_secret=secret)


@router.post(_PREFIX, status_code=201, response_model=ClientWithSecret)
async def create_oauth_client(
    org: str, body: ClientBody, caller: UserDep, services: ServicesDep, response: Response
) -> ClientWithSecret:
    """Register an app; a confidential app's secret is shown only in this response."""
    client, secret = await registry(services).create(org, body.spec(), caller.actor)
    return _with_secret(client, secret, response)


@router.get(_PREFIX, response_model=list[ClientView])
async def list_oauth_clients(org: str, caller: UserDep, services: ServicesDep) -> list[ClientView]:
    """The organization's apps, by name (never their secrets)."""
    return [ClientView.of(c) for c in await registry(services).list(org, caller.actor)]


@router.get(_PREFIX + "/{client_id}", response_model=ClientView)
async def get_oauth_client(
    org: str, caller: UserDep, services: ServicesDep, client_id: str = _CLIENT_ID
) -> ClientView:
    """One app of the organization."""
    return ClientView.of(await registry(services).get(org, client_id, caller.actor))


@router.put(_PREFIX + "/{client_id}", response_model=ClientWithSecret)
async def replace_oauth_client(
    org: str,
    body: ClientBody,
    caller: UserDep,
    services: ServicesDep,
    response: Response,
    client_id: str = _CLIENT_ID,
) -> ClientWithSecret:
    """Replace an app's metadata. An app that becomes confidential gets a secret, shown only
    here; one that becomes public loses its secret; otherwise the secret is kept."""
    client, secret = await registry(services).update(org, client_id, body.spec(), caller.actor)
    return _with_secret(client, secret, response)


@router.delete(_PREFIX + "/{client_id}", status_code=204)
async def delete_oauth_client(
    org: str, caller: UserDep, services: ServicesDep, client_id: str = _CLIENT_ID
) -> Response:
    """Remove an app: its codes and consents go, and the sessions it holds end at once."""
    await registry(services).delete(org, client_id, caller.actor)
    return Response(status_code=204)


@router.post(_PREFIX + "/{client_id}/secret", response_model=NewClientSecret)
async def rotate_oauth_client_secret(
    org: str,
    caller: UserDep,
    services: ServicesDep,
    response: Response,
    client_id: str = _CLIENT_ID,
) -> NewClientSecret:
    """A new secret for a confidential app, shown only here; the old one stops working."""
    secret = await registry(services).rotate_secret(org, client_id, caller.actor)
    response.headers.update(NO_STORE)
    return NewClientSecret(client_id=client_id, client_secret=secret)


_REGISTRATION_EXAMPLE = {
    "client_name": "Planner",
    "redirect_uris": ["https://planner.example.com/callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "token_endpoint_auth_method": "client_secret_basic",
    "scope": "openid profile email offline_access",
}


@router.post(
    REGISTRATION_PATH,
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object", "additionalProperties": True},
                    "example": _REGISTRATION_EXAMPLE,
                }
            },
        }
    },
)
async def register_oauth_client(request: Request, services: ServicesDep) -> JSONResponse:
    """RFC 7591 dynamic client registration, when the operator turned it on
    (``AUTHGATE_PROVIDER_DYNAMIC_REGISTRATION``). The initial access token is the bearer
    access token of an OWNER or ADMIN of its organization; the app joins that organization."""
    try:
        require_enabled(services.settings.provider_dynamic_registration)
        caller = await authenticate(
            services, request.headers.get("authorization"), client_ip(request)
        )
        metadata = _json(await request.body())
        body = await register(
            services.deps, registry(services), caller.claims, metadata, caller.actor
        )
    except AuthgateError as error:
        return _rfc7591_error(error)
    return JSONResponse(body, status_code=201, headers=NO_STORE)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidClientMetadata("the body must be a JSON object of client metadata") from None


def _rfc7591_error(error: AuthgateError) -> JSONResponse:
    """RFC 7591 §3.2.2 (and RFC 6750 §3 for the initial access token) error response."""
    headers = error_headers(error)
    if isinstance(error, InvalidToken):
        headers["WWW-Authenticate"] = f'Bearer realm="authgate", error="{error.code}"'
    body = {"error": error.code, "error_description": error.message}
    return JSONResponse(body, status_code=error.status, headers=headers)
