"""The vault's administration API: write-only credentials of an organization.

``PUT`` creates or replaces (a new version); ``GET`` lists or describes (metadata only);
``DELETE`` removes. No response model has a value field, and no example holds a secret.
Only OWNER and ADMIN may call these; another organization's admin gets 404.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from authgate.http.deps import ServicesDep, UserDep
from authgate.vault.models import (
    Credential,
    CredentialKind,
    CredentialSpec,
    OAuthClientConfig,
    SecretFields,
    TokenEndpointAuth,
)
from authgate.vault.validation import MAX_SECRET_CHARS

router = APIRouter(prefix="/v1/orgs/{org}/credentials", tags=["vault"])

_SECRET = Field(default=None, min_length=1, max_length=MAX_SECRET_CHARS)
_SOLUTION_QUERY = Query(default=None, max_length=128, description="The solution scope.")


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class CredentialBody(_Camel):
    """A credential to store. Secret fields depend on ``kind``: ``value`` (secret, api_key,
    bearer_token, sql_connection), ``username`` + ``password`` (basic), ``clientSecret``
    (oauth_client, with authorizeUrl, tokenUrl, clientId, scopes, pkce, extraAuthorizeParams,
    tokenEndpointAuthMethod: client_secret_basic (default) or client_secret_post).
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "api_key",
                    "value": "<the API key>",
                    "allowedHosts": ["api.example.com"],
                    "description": "CRM API key",
                }
            ]
        },
    )

    kind: CredentialKind
    value: str | None = _SECRET
    username: str | None = _SECRET
    password: str | None = _SECRET
    client_secret: str | None = _SECRET
    authorize_url: str | None = Field(default=None, max_length=2048)
    token_url: str | None = Field(default=None, max_length=2048)
    client_id: str | None = Field(default=None, max_length=512)
    scopes: list[str] = Field(default_factory=list, max_length=50)
    pkce: bool = True
    extra_authorize_params: dict[str, str] = Field(default_factory=dict, max_length=20)
    token_endpoint_auth_method: TokenEndpointAuth = TokenEndpointAuth.CLIENT_SECRET_BASIC
    allowed_hosts: list[str] = Field(default_factory=list, max_length=50)
    solution: str | None = Field(default=None, max_length=128)
    device_usable: bool = False
    description: str = Field(default="", max_length=500)

    def spec(self) -> CredentialSpec:
        """The domain's view of this body."""
        secret = {
            name: value
            for name, value in (
                ("value", self.value),
                ("username", self.username),
                ("password", self.password),
                ("client_secret", self.client_secret),
            )
            if value is not None
        }
        oauth = None
        if self.authorize_url or self.token_url or self.client_id:
            oauth = OAuthClientConfig(
                authorize_url=self.authorize_url or "",
                token_url=self.token_url or "",
                client_id=self.client_id or "",
                scopes=tuple(self.scopes),
                pkce=self.pkce,
                extra_authorize_params=tuple(self.extra_authorize_params.items()),
                token_auth=self.token_endpoint_auth_method,
            )
        return CredentialSpec(
            kind=self.kind,
            secret=SecretFields(secret),
            allowed_hosts=tuple(self.allowed_hosts),
            solution=self.solution,
            device_usable=self.device_usable,
            description=self.description,
            oauth=oauth,
        )


class OAuthClientView(_Camel):
    """The non-secret settings of an oauth_client credential."""

    authorize_url: str
    token_url: str
    client_id: str
    scopes: list[str]
    pkce: bool
    extra_authorize_params: dict[str, str]
    token_endpoint_auth_method: TokenEndpointAuth


class CredentialView(_Camel):
    """A credential's metadata. There is deliberately no way to read a value back."""

    name: str
    kind: CredentialKind
    solution: str | None
    allowed_hosts: list[str]
    device_usable: bool
    description: str
    oauth: OAuthClientView | None
    version: int
    created_by: str | None
    created_at: datetime
    updated_by: str | None
    updated_at: datetime

    @classmethod
    def of(cls, credential: Credential) -> CredentialView:
        """The view of a stored credential."""
        oauth = credential.oauth
        return cls(
            name=credential.name,
            kind=credential.kind,
            solution=credential.solution,
            allowed_hosts=list(credential.allowed_hosts),
            device_usable=credential.device_usable,
            description=credential.description,
            oauth=None
            if oauth is None
            else OAuthClientView(
                authorize_url=oauth.authorize_url,
                token_url=oauth.token_url,
                client_id=oauth.client_id,
                scopes=list(oauth.scopes),
                pkce=oauth.pkce,
                extra_authorize_params=dict(oauth.extra_authorize_params),
                token_endpoint_auth_method=oauth.token_auth,
            ),
            version=credential.version,
            created_by=credential.created_by,
            created_at=credential.created_at,
            updated_by=credential.updated_by,
            updated_at=credential.updated_at,
        )


@router.put("/{name}", response_model=CredentialView, response_model_by_alias=True)
async def put_credential(
    org: str,
    name: str,
    body: CredentialBody,
    caller: UserDep,
    services: ServicesDep,
    response: Response,
) -> CredentialView:
    """Create the credential (201) or replace its value and settings with a new version (200)."""
    credential, created = await services.vault.put(org, name, body.spec(), caller.actor)
    response.status_code = 201 if created else 200
    response.headers["Cache-Control"] = "no-store"
    return CredentialView.of(credential)


@router.get("", response_model=list[CredentialView], response_model_by_alias=True)
async def list_credentials(
    org: str, caller: UserDep, services: ServicesDep
) -> list[CredentialView]:
    """Every credential of the organization: names and metadata, never values."""
    return [CredentialView.of(c) for c in await services.vault.list(org, caller.actor)]


@router.get("/{name}", response_model=CredentialView, response_model_by_alias=True)
async def get_credential(
    org: str,
    name: str,
    caller: UserDep,
    services: ServicesDep,
    solution: str | None = _SOLUTION_QUERY,
) -> CredentialView:
    """One credential's metadata (``?solution=`` for a solution-scoped one)."""
    return CredentialView.of(await services.vault.get(org, name, caller.actor, solution))


@router.delete("/{name}", status_code=204)
async def delete_credential(
    org: str,
    name: str,
    caller: UserDep,
    services: ServicesDep,
    solution: str | None = _SOLUTION_QUERY,
) -> Response:
    """Delete the credential and every stored version of its value."""
    await services.vault.delete(org, name, caller.actor, solution)
    return Response(status_code=204)
