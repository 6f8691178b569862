"""The apps gateway's registry API: containers and apps of an organization.

``PUT`` registers or replaces, ``GET`` lists or describes, ``DELETE`` removes. Secrets (a
container's HMAC secret, an app's consumer secret) are accepted and never returned. Only
OWNER and ADMIN may call these; another organization's admin gets 404.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from authgate.http.deps import ServicesDep, UserDep
from authgate.signedfetch.registration import MAX_HOME_SERVERS, MAX_SECRET_CHARS
from authgate.signedfetch.registry import App, AppSpec, Container, ContainerKeyType, ContainerSpec
from authgate.signedfetch.signature import SignatureMethod

router = APIRouter(prefix="/v1/orgs/{org}/signed-fetch", tags=["apps gateway"])


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ContainerBody(_Camel):
    """A container: its consumer key, and ``secret`` (HMAC) or ``publicKey`` (RSA, PEM)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "consumerKey": "jive-prod",
                    "secret": "<a shared secret of 16+ characters>",
                    "instanceId": "9f1c2e7a-jive-prod",
                    "description": "Our Jive instance",
                }
            ]
        }
    )

    consumer_key: str = Field(min_length=1, max_length=255)
    secret: str | None = Field(default=None, max_length=MAX_SECRET_CHARS)
    public_key: str | None = Field(default=None, max_length=16384)
    instance_id: str | None = Field(default=None, max_length=128)
    description: str = Field(default="", max_length=500)

    def spec(self) -> ContainerSpec:
        """The domain's view of this body."""
        return ContainerSpec(
            consumer_key=self.consumer_key,
            secret=self.secret,
            public_key_pem=self.public_key,
            instance_id=self.instance_id,
            description=self.description,
        )


class ContainerView(_Camel):
    """A container's registration. There is no way to read its secret back."""

    name: str
    consumer_key: str
    instance_id: str
    key_type: ContainerKeyType
    public_key: str | None
    description: str
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, container: Container) -> ContainerView:
        """The view of a registered container."""
        return cls(
            name=container.name,
            consumer_key=container.consumer_key,
            instance_id=container.instance_id,
            key_type=container.key_type,
            public_key=container.public_key_pem,
            description=container.description,
            version=container.secret_version,
            created_at=container.created_at,
            updated_at=container.updated_at,
        )


class AppBody(_Camel):
    """An app: its URL, the home servers the gateway may call, and its consumer key/secret."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "appUrl": "https://myplanner.example.com/app.xml",
                    "homeServers": ["https://api.myplanner.example.com"],
                    "consumerKey": "myplanner",
                    "consumerSecret": "<the secret MyPlanner verifies with>",
                }
            ]
        }
    )

    app_url: str = Field(min_length=1, max_length=2048)
    home_servers: list[str] = Field(min_length=1, max_length=MAX_HOME_SERVERS)
    consumer_key: str = Field(min_length=1, max_length=255)
    consumer_secret: str | None = Field(default=None, max_length=MAX_SECRET_CHARS)
    signature_method: SignatureMethod = SignatureMethod.HMAC_SHA1
    description: str = Field(default="", max_length=500)

    def spec(self) -> AppSpec:
        """The domain's view of this body."""
        return AppSpec(
            app_url=self.app_url,
            home_servers=tuple(self.home_servers),
            consumer_key=self.consumer_key,
            consumer_secret=self.consumer_secret,
            signature_method=self.signature_method,
            description=self.description,
        )


class AppView(_Camel):
    """An app's registration. There is no way to read its consumer secret back."""

    app_id: str
    app_url: str
    home_servers: list[str]
    consumer_key: str
    signature_method: SignatureMethod
    description: str
    version: int
    gateway_path: str
    fetch_path: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, app: App) -> AppView:
        """The view of a registered app."""
        return cls(
            app_id=app.app_id,
            app_url=app.app_url,
            home_servers=list(app.home_servers),
            consumer_key=app.consumer_key,
            signature_method=app.signature_method,
            description=app.description,
            version=app.secret_version,
            gateway_path=f"/v1/gateway/{app.app_id}/",
            fetch_path=f"/v1/apps/{app.app_id}/fetch/",
            created_at=app.created_at,
            updated_at=app.updated_at,
        )


def _no_store(response: Response, created: bool) -> None:
    response.status_code = 201 if created else 200
    response.headers["Cache-Control"] = "no-store"


@router.put("/containers/{name}", response_model=ContainerView, response_model_by_alias=True)
async def put_container(
    org: str,
    name: str,
    body: ContainerBody,
    caller: UserDep,
    services: ServicesDep,
    response: Response,
) -> ContainerView:
    """Register the container (201) or replace its key and settings (200)."""
    container, created = await services.registry.put_container(org, name, body.spec(), caller.actor)
    _no_store(response, created)
    return ContainerView.of(container)


@router.get("/containers", response_model=list[ContainerView], response_model_by_alias=True)
async def list_containers(org: str, caller: UserDep, services: ServicesDep) -> list[ContainerView]:
    """Every container of the organization."""
    found = await services.registry.list_containers(org, caller.actor)
    return [ContainerView.of(c) for c in found]


@router.get("/containers/{name}", response_model=ContainerView, response_model_by_alias=True)
async def get_container(
    org: str, name: str, caller: UserDep, services: ServicesDep
) -> ContainerView:
    """One container's registration."""
    return ContainerView.of(await services.registry.get_container(org, name, caller.actor))


@router.delete("/containers/{name}", status_code=204)
async def delete_container(org: str, name: str, caller: UserDep, services: ServicesDep) -> None:
    """Remove the container; its signatures stop verifying."""
    await services.registry.delete_container(org, name, caller.actor)


@router.put("/apps/{app_id}", response_model=AppView, response_model_by_alias=True)
async def put_app(
    org: str,
    app_id: str,
    body: AppBody,
    caller: UserDep,
    services: ServicesDep,
    response: Response,
) -> AppView:
    """Register the app (201) or replace its settings (200; the secret only when sent)."""
    app, created = await services.registry.put_app(org, app_id, body.spec(), caller.actor)
    _no_store(response, created)
    return AppView.of(app)


@router.get("/apps", response_model=list[AppView], response_model_by_alias=True)
async def list_apps(org: str, caller: UserDep, services: ServicesDep) -> list[AppView]:
    """Every app of the organization."""
    return [AppView.of(a) for a in await services.registry.list_apps(org, caller.actor)]


@router.get("/apps/{app_id}", response_model=AppView, response_model_by_alias=True)
async def get_app(org: str, app_id: str, caller: UserDep, services: ServicesDep) -> AppView:
    """One app's registration."""
    return AppView.of(await services.registry.get_app(org, app_id, caller.actor))


@router.delete("/apps/{app_id}", status_code=204)
async def delete_app(org: str, app_id: str, caller: UserDep, services: ServicesDep) -> None:
    """Remove the app; the gateway stops forwarding to it."""
    await services.registry.delete_app(org, app_id, caller.actor)
