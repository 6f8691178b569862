"""An organization's SSO administration: its IdPs and its SSO settings.

``PUT /v1/orgs/{org}/sso/idps/{name}`` creates or replaces an IdP (checked against its
metadata first; a replacement ends the sessions it created); ``GET`` lists or describes;
``DELETE`` removes it and ends its sessions. ``GET``/``PATCH /v1/orgs/{org}/sso`` read and
change provisioning, SSO enforcement and the solutions provisioned people get. The client
secret is write-only: no response model has it. OWNER and ADMIN only; another
organization's admin gets 404.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Path, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from authgate.federation.logins import CALLBACK_PATH
from authgate.federation.models import (
    Endpoints,
    IdpConfig,
    IdpSpec,
    IdpType,
    Provisioning,
    SsoSettings,
)
from authgate.federation.validation import MAX_SECRET_CHARS
from authgate.http.deps import ServicesDep, UserDep
from authgate.http.errors import NO_STORE
from authgate.http.routes.sso import federation

router = APIRouter(prefix="/v1/orgs/{org}/sso", tags=["sso"])

_NAME = Path(min_length=1, max_length=63, description="The IdP's name in the organization.")


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class EndpointsBody(_Camel):
    """Endpoints given explicitly, on the issuer's origin (instead of discovering them)."""

    model_config = ConfigDict(extra="forbid")

    authorization_endpoint: str = Field(max_length=2048)
    token_endpoint: str = Field(max_length=2048)
    jwks_uri: str = Field(max_length=2048)
    end_session_endpoint: str | None = Field(default=None, max_length=2048)


class IdpBody(_Camel):
    """An IdP to store. ``clientSecret`` is required on creation and write-only; without it,
    a replacement keeps the stored one."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "entra",
                    "issuer": "https://login.microsoftonline.com/organizations/v2.0",
                    "clientId": "00000000-0000-0000-0000-000000000000",
                    "clientSecret": "<the client secret>",
                    "domains": ["acme.example"],
                    "tenants": ["72f988bf-86f1-41af-91ab-2d7cd011db47"],
                }
            ]
        },
    )

    type: IdpType
    issuer: str = Field(max_length=2048)
    client_id: str = Field(max_length=255)
    client_secret: str | None = Field(default=None, min_length=1, max_length=MAX_SECRET_CHARS)
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"], max_length=20)
    pkce: bool = True
    nonce: bool = True
    domains: list[str] = Field(default_factory=list, max_length=50)
    tenants: list[str] = Field(default_factory=list, max_length=50)
    endpoints: EndpointsBody | None = None
    device_client_id: str | None = Field(default=None, max_length=255)
    display_name: str = Field(default="", max_length=200)
    enabled: bool = True

    def spec(self) -> IdpSpec:
        """The domain's view of this body."""
        endpoints = None
        if self.endpoints is not None:
            endpoints = Endpoints(
                authorization=self.endpoints.authorization_endpoint,
                token=self.endpoints.token_endpoint,
                jwks_uri=self.endpoints.jwks_uri,
                end_session=self.endpoints.end_session_endpoint,
            )
        return IdpSpec(
            type=self.type,
            issuer=self.issuer,
            client_id=self.client_id,
            client_secret=self.client_secret,
            scopes=tuple(self.scopes),
            pkce=self.pkce,
            nonce=self.nonce,
            domains=tuple(self.domains),
            tenants=tuple(self.tenants),
            endpoints=endpoints,
            device_client_id=self.device_client_id,
            display_name=self.display_name,
            enabled=self.enabled,
        )


class IdpView(_Camel):
    """An IdP's configuration. There is deliberately no way to read the secret back."""

    id: str
    name: str
    display_name: str
    type: IdpType
    issuer: str
    client_id: str
    device_client_id: str | None
    scopes: list[str]
    pkce: bool
    nonce: bool
    domains: list[str]
    tenants: list[str]
    endpoints: EndpointsBody | None
    enabled: bool
    version: int
    secret_version: int
    redirect_uri: str = Field(description="authgate's redirect URI: register it at the IdP.")
    created_by: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, idp: IdpConfig, issuer: str) -> IdpView:
        endpoints = None
        if idp.endpoints is not None:
            endpoints = EndpointsBody(
                authorization_endpoint=idp.endpoints.authorization,
                token_endpoint=idp.endpoints.token,
                jwks_uri=idp.endpoints.jwks_uri,
                end_session_endpoint=idp.endpoints.end_session,
            )
        return cls(
            id=idp.id,
            name=idp.name,
            display_name=idp.display_name,
            type=idp.type,
            issuer=idp.issuer,
            client_id=idp.client_id,
            device_client_id=idp.device_client_id,
            scopes=list(idp.scopes),
            pkce=idp.pkce,
            nonce=idp.nonce,
            domains=list(idp.domains),
            tenants=list(idp.tenants),
            endpoints=endpoints,
            enabled=idp.enabled,
            version=idp.version,
            secret_version=idp.secret_version,
            redirect_uri=issuer + CALLBACK_PATH,
            created_by=idp.created_by,
            created_at=idp.created_at,
            updated_at=idp.updated_at,
        )


class SettingsView(_Camel):
    """The organization's SSO policy."""

    provisioning: Provisioning
    enforce_sso: bool
    solutions: list[str]
    updated_at: datetime | None

    @classmethod
    def of(cls, settings: SsoSettings) -> SettingsView:
        return cls(
            provisioning=settings.provisioning,
            enforce_sso=settings.enforce_sso,
            solutions=list(settings.solutions),
            updated_at=settings.updated_at,
        )


class SettingsBody(_Camel):
    """Only the given settings change."""

    model_config = ConfigDict(extra="forbid")

    provisioning: Provisioning | None = None
    enforce_sso: bool | None = None
    solutions: list[str] | None = Field(default=None, max_length=50)


def _json(body: BaseModel | list[BaseModel], status: int = 200) -> JSONResponse:
    if isinstance(body, list):
        content: object = [item.model_dump(mode="json", by_alias=True) for item in body]
    else:
        content = body.model_dump(mode="json", by_alias=True)
    return JSONResponse(content, status_code=status, headers=NO_STORE)


@router.get("", response_model=SettingsView, response_model_by_alias=True)
async def get_settings(org: str, caller: UserDep, services: ServicesDep) -> JSONResponse:
    """Provisioning mode, SSO enforcement and the solutions of provisioned people."""
    admin = federation(services).admin
    return _json(SettingsView.of(await admin.settings(await admin.org(org, caller.actor))))


@router.patch("", response_model=SettingsView, response_model_by_alias=True)
async def patch_settings(
    org: str, body: SettingsBody, caller: UserDep, services: ServicesDep
) -> JSONResponse:
    """Change the SSO settings (only the fields given)."""
    admin = federation(services).admin
    changed = await admin.update_settings(
        await admin.org(org, caller.actor),
        caller.actor,
        provisioning=body.provisioning,
        enforce_sso=body.enforce_sso,
        solutions=body.solutions,
    )
    return _json(SettingsView.of(changed))


@router.get("/idps", response_model=list[IdpView], response_model_by_alias=True)
async def list_idps(org: str, caller: UserDep, services: ServicesDep) -> JSONResponse:
    """The organization's IdPs (never a secret)."""
    admin = federation(services).admin
    idps = await admin.idps(await admin.org(org, caller.actor))
    return _json([IdpView.of(idp, services.settings.issuer) for idp in idps])


@router.get("/idps/{name}", response_model=IdpView, response_model_by_alias=True)
async def get_idp(
    org: str, caller: UserDep, services: ServicesDep, name: str = _NAME
) -> JSONResponse:
    """One IdP's configuration."""
    admin = federation(services).admin
    idp = await admin.get(await admin.org(org, caller.actor), name)
    return _json(IdpView.of(idp, services.settings.issuer))


@router.put(
    "/idps/{name}",
    response_model=IdpView,
    response_model_by_alias=True,
    responses={201: {"description": "Created."}},
)
async def put_idp(
    org: str, body: IdpBody, caller: UserDep, services: ServicesDep, name: str = _NAME
) -> JSONResponse:
    """Create or replace an IdP; a replacement ends the sessions it created."""
    admin = federation(services).admin
    idp, created = await admin.put(
        await admin.org(org, caller.actor), name, body.spec(), caller.actor
    )
    return _json(IdpView.of(idp, services.settings.issuer), 201 if created else 200)


@router.delete("/idps/{name}", status_code=204)
async def delete_idp(
    org: str, caller: UserDep, services: ServicesDep, name: str = _NAME
) -> Response:
    """Remove an IdP and end the sessions it created."""
    admin = federation(services).admin
    await admin.delete(await admin.org(org, caller.actor), name, caller.actor)
    return Response(status_code=204, headers=NO_STORE)
