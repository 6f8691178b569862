"""The ASGI application: FastAPI routers behind the size limit, with a lean token path.

``POST /oauth/token`` is served by :class:`LeanTokenEndpoint`, which skips FastAPI's
routing and dependency machinery (the grant logic is the same function the FastAPI route
calls). Everything else goes through FastAPI.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

import authgate
from authgate.errors import AuthgateError, PayloadTooLarge
from authgate.http.call_endpoint import LeanCallEndpoint
from authgate.http.errors import install_error_handlers
from authgate.http.gateway_endpoint import GatewayEndpoint
from authgate.http.lean import lean_request, send_error, send_json
from authgate.http.middleware import ClientGone, LimitAndObserve, read_bounded
from authgate.http.oauth_forms import MAX_FORM_BYTES
from authgate.http.routes import (
    admin,
    auth,
    connections,
    credentials,
    device,
    device_credentials,
    device_sso,
    functions,
    health,
    invites,
    me,
    oauth,
    oauth_clients,
    orgs,
    pages,
    provider_authorize,
    provider_endpoints,
    provider_grants,
    signed_fetch,
    solutions,
    sso,
    sso_admin,
)
from authgate.http.services import Services
from authgate.http.token_endpoint import token_request
from authgate.http.userinfo_endpoint import LeanUserinfoEndpoint

TOKEN_PATH = "/oauth/token"


def build_fastapi(lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]]) -> FastAPI:
    """The FastAPI application with every router and the error mapping."""
    app = FastAPI(
        title="authgate",
        version=authgate.__version__,
        description="A self-hosted identity and data gateway for apps.",
        lifespan=lifespan,
    )
    routers = (health, oauth, auth, me, orgs, invites, admin, credentials, solutions, functions)
    for module in (*routers, signed_fetch, connections, pages, device, device_credentials):
        app.include_router(module.router)
    for module in (sso, sso_admin, device_sso):  # single sign-on through organizations' IdPs
        app.include_router(module.router)
    for module in (provider_authorize, provider_endpoints):  # authgate as an OpenID provider
        app.include_router(module.router)
    app.include_router(provider_grants.router)  # consents to apps, for people and admins
    app.include_router(oauth_clients.router)  # registered apps: admin API and RFC 7591
    install_error_handlers(app)
    return app


class LeanTokenEndpoint:
    """Serves ``POST /oauth/token`` directly; passes every other request on."""

    def __init__(self, app: ASGIApp, services: Callable[[], Services]) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != TOKEN_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = lean_request(scope)
        try:
            body = await read_bounded(receive, MAX_FORM_BYTES)
            if body is None:
                raise PayloadTooLarge(f"the form must be at most {MAX_FORM_BYTES} bytes")
            payload = await token_request(
                self.services(), body, request.content_type, request.authorization, request.ip
            )
            await send_json(send, 200, payload)
        except AuthgateError as error:
            await send_error(send, error)
        except ClientGone:
            return  # nobody to answer


def build_asgi(fastapi_app: FastAPI) -> ASGIApp:
    """The whole ASGI stack served by uvicorn."""

    def services() -> Services:
        found: Services = fastapi_app.state.services
        return found

    lean = LeanTokenEndpoint(
        LeanCallEndpoint(
            LeanUserinfoEndpoint(GatewayEndpoint(fastapi_app, services), services), services
        ),
        services,
    )
    return LimitAndObserve(lean)
