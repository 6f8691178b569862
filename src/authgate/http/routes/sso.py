"""Single sign-on through an organization's IdP.

* ``POST /v1/sso/discover {email}``: which IdPs serve the email's domain (home-realm
  discovery), with what a device needs to start either loop, and whether a password works.
* Brokered: the device opens ``GET /v1/sso/start`` (its registered redirect URI, exact
  match, and a PKCE S256 challenge); authgate sends the browser to the IdP, receives
  ``GET /v1/sso/callback``, and redirects to the app with a one-time code, which the app
  redeems at ``POST /v1/sso/token`` with its verifier (RFC 6749 §4.1.3 form, §5.2 errors).
  An invalid redirect URI gets an error page, never a redirect.
* Device-run: ``POST /v1/sso/device/start {idp}`` gives a nonce; the device runs the loop
  with the IdP and exchanges the ID token at ``POST /v1/sso/device/token``.
* ``GET /v1/sso/link?idp=…`` (signed in): link an IdP account to the caller's account.
* ``POST /v1/sso/logout`` (signed in): ends the session and answers the IdP's end-session
  URL (RP-initiated logout), when the IdP started the session and supports it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from authgate.errors import (
    AuthgateError,
    InvalidClient,
    OAuthError,
    ServiceUnavailable,
    UnsupportedGrantType,
)
from authgate.federation import Federation
from authgate.federation.discovery import RealmIdp
from authgate.federation.errors import InvalidRedirectUri
from authgate.federation.redirects import with_query
from authgate.http.deps import AnonymousDep, ServicesDep, UserDep, client_ip
from authgate.http.errors import NO_STORE
from authgate.http.oauth_forms import parse_form
from authgate.http.routes.auth import TokenBody
from authgate.http.routes.device_sso import DEVICE_PAGE_SSO_CLIENT
from authgate.http.routes.pages import page
from authgate.http.services import Services
from authgate.identity.deps import Actor
from authgate.provider.service import PROVIDER_SSO_CLIENT

router = APIRouter(prefix="/v1/sso", tags=["sso"])
PAGE_CLIENTS = frozenset({PROVIDER_SSO_CLIENT, DEVICE_PAGE_SSO_CLIENT})
"""The clients of authgate's own pages: their logins start and end on those pages only."""

_TITLE = "Single sign-on"
_FORM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}},
    }
}


def federation(services: Services) -> Federation:
    """The SSO services (always wired by ``authgate.app``)."""
    if services.federation is None:
        raise ServiceUnavailable("single sign-on is not available on this server")
    return services.federation


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class DiscoverRequest(_Camel):
    email: str = Field(min_length=3, max_length=254, examples=["ada@acme.example"])


class DeviceConfig(_Camel):
    """What a device needs to run the loop with the IdP itself."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    client_id: str
    scopes: list[str]
    nonce_endpoint: str = "/v1/sso/device/start"


class ProviderView(_Camel):
    """One IdP that serves the domain."""

    id: str
    name: str
    display_name: str
    type: str
    organization: str
    organization_name: str
    start: str
    device: DeviceConfig | None

    @classmethod
    def of(cls, entry: RealmIdp) -> ProviderView:
        idp, metadata = entry.idp, entry.metadata
        device = None
        if metadata is not None:
            device = DeviceConfig(
                issuer=metadata.issuer,
                authorization_endpoint=metadata.authorization_endpoint,
                token_endpoint=metadata.token_endpoint,
                client_id=idp.device_audience,
                scopes=list(idp.scopes),
            )
        return cls(
            id=idp.id,
            name=idp.name,
            display_name=idp.display_name,
            type=idp.type.value,
            organization=entry.org.slug,
            organization_name=entry.org.name,
            start=f"/v1/sso/start?idp={idp.id}",
            device=device,
        )


class DiscoverResult(_Camel):
    domain: str
    sso: bool
    password_allowed: bool
    providers: list[ProviderView]


@router.post("/discover", response_model=DiscoverResult, response_model_by_alias=True)
async def discover(body: DiscoverRequest, services: ServicesDep) -> JSONResponse:
    """Home-realm discovery: the IdPs of the email's domain (the same for every address)."""
    realm = await federation(services).realm.discover(body.email)
    result = DiscoverResult(
        domain=realm.domain,
        sso=bool(realm.idps),
        password_allowed=realm.password_allowed,
        providers=[ProviderView.of(entry) for entry in realm.idps],
    )
    return JSONResponse(result.model_dump(mode="json", by_alias=True), headers=NO_STORE)


@router.get(
    "/start",
    response_class=RedirectResponse,
    status_code=302,
    responses={400: {"description": "An invalid client or redirect URI: an error page."}},
)
async def start(
    request: Request,
    services: ServicesDep,
    actor: AnonymousDep,
    idp: str = Query(max_length=64),
    client_id: str = Query(max_length=128),
    redirect_uri: str = Query(max_length=2048),
    code_challenge: str | None = Query(default=None, max_length=128),
    code_challenge_method: str | None = Query(default=None, max_length=16),
    state: str | None = Query(default=None, max_length=512),
    login_hint: str | None = Query(default=None, max_length=254),
) -> Response:
    """Start a brokered login: to the IdP (or, to ``Accept: application/json``, its URL)."""
    brokered = federation(services).brokered
    try:
        if client_id in PAGE_CLIENTS:
            raise InvalidRedirectUri("authgate's own sign-in page starts these logins itself")
        redirect_uri = brokered.check_redirect(client_id, redirect_uri)
    except InvalidRedirectUri as exc:
        return page(_TITLE, status=400, error=exc.message)
    try:
        url = await brokered.start(
            idp,
            client_id=client_id,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            app_state=state,
            login_hint=login_hint,
            actor=actor,
        )
    except AuthgateError as exc:
        # RFC 6749 §4.1.2.1: the redirect URI is the app's, so the app hears of the error.
        params = [("error", "invalid_request"), ("error_description", exc.message)]
        params.append(("error_code", exc.code))
        if state is not None:
            params.append(("state", state))
        params.append(("iss", services.settings.issuer))
        return RedirectResponse(with_query(redirect_uri, params), 302, headers=NO_STORE)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"authorizationUrl": url}, headers=NO_STORE)
    return RedirectResponse(url, status_code=302, headers=NO_STORE)


@router.get("/callback", response_class=HTMLResponse, include_in_schema=False)
async def callback(request: Request, services: ServicesDep, actor: AnonymousDep) -> Response:
    """Where the IdP sends the browser back (RFC 6749 §4.1.2)."""
    query = request.query_params
    if any(len(value) > 4096 for value in query.values()):
        return page(_TITLE, status=400, error="This address is too long to be an IdP's answer.")
    try:
        result = await federation(services).brokered.callback(
            state=query.get("state", ""),
            code=query.get("code"),
            iss=query.get("iss"),
            error=query.get("error"),
            actor=actor,
        )
    except AuthgateError as exc:
        return page(_TITLE, status=exc.status, error=exc.message)
    if result.redirect is None:
        return page(
            "Account linked",
            done="Your identity provider account is linked. You can close this window.",
        )
    return RedirectResponse(
        result.redirect, status_code=302, headers={**NO_STORE, "Referrer-Policy": "no-referrer"}
    )


@router.post("/token", response_model=TokenBody, openapi_extra=_FORM_BODY)
async def token(request: Request, services: ServicesDep) -> JSONResponse:
    """Redeem a brokered login's one-time code with the PKCE verifier (RFC 6749 §4.1.3)."""
    form = parse_form(await request.body(), request.headers.get("content-type"))
    if form.get("grant_type") != "authorization_code":
        raise UnsupportedGrantType("grant_type must be authorization_code")
    if not form.get("code"):
        raise OAuthError("code is required")
    if "client_secret" in form or request.headers.get("authorization"):
        raise OAuthError("the device app is a public client: send no client secret")
    if form.get("client_id") in PAGE_CLIENTS:
        # Only authgate's own sign-in page redeems these, and it signs a browser in instead.
        raise InvalidClient("this client's logins are not redeemed here")
    tokens = await federation(services).brokered.redeem(
        code=form["code"],
        code_verifier=form.get("code_verifier"),
        redirect_uri=form.get("redirect_uri"),
        client_id=form.get("client_id"),
        actor=Actor(None, client_ip(request)),
    )
    return JSONResponse(tokens.as_json(), headers=NO_STORE)


class DeviceStartRequest(_Camel):
    idp: str = Field(min_length=1, max_length=64)


class DeviceStartView(DeviceConfig):
    """A nonce for one device-run login, and the IdP's public configuration."""

    nonce: str
    expires_in: int


@router.post("/device/start", response_model=DeviceStartView, response_model_by_alias=True)
async def device_start(
    body: DeviceStartRequest, services: ServicesDep, actor: AnonymousDep
) -> JSONResponse:
    """Start a device-run login: send ``nonce`` in the authorization request to the IdP."""
    started = await federation(services).device.start(body.idp, actor)
    view = DeviceStartView(
        issuer=started.metadata.issuer,
        authorization_endpoint=started.metadata.authorization_endpoint,
        token_endpoint=started.metadata.token_endpoint,
        client_id=started.idp.device_audience,
        scopes=list(started.idp.scopes),
        nonce=started.nonce,
        expires_in=started.expires_in,
    )
    return JSONResponse(view.model_dump(by_alias=True), headers=NO_STORE)


class DeviceTokenRequest(_Camel):
    idp: str = Field(min_length=1, max_length=64)
    id_token: str = Field(min_length=1, max_length=16384)
    nonce: str = Field(min_length=1, max_length=256)


@router.post("/device/token", response_model=TokenBody, response_model_exclude_none=True)
async def device_token(
    body: DeviceTokenRequest, services: ServicesDep, actor: AnonymousDep
) -> JSONResponse:
    """Exchange the IdP's ID token (carrying the nonce) for authgate's tokens."""
    tokens = await federation(services).device.exchange(body.idp, body.id_token, body.nonce, actor)
    return JSONResponse(tokens.as_json(), headers=NO_STORE)


@router.get("/link", responses={302: {"description": "To the IdP, for a browser."}})
async def link(
    request: Request, caller: UserDep, services: ServicesDep, idp: str = Query(max_length=64)
) -> Response:
    """Link an IdP account to the caller's account: the IdP's authorization URL."""
    url = await federation(services).brokered.start_link(idp, caller.claims.subject, caller.actor)
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse(url, status_code=302, headers=NO_STORE)
    return JSONResponse({"authorizationUrl": url}, headers=NO_STORE)


class LogoutRequest(_Camel):
    post_logout_redirect_uri: str | None = Field(default=None, max_length=2048)


class LogoutResult(_Camel):
    end_session_url: str | None


@router.post("/logout", response_model=LogoutResult, response_model_by_alias=True)
async def logout(
    caller: UserDep, services: ServicesDep, body: LogoutRequest | None = None
) -> JSONResponse:
    """End this session; open ``endSessionUrl`` (if any) to end the IdP's session too."""
    assert caller.claims.session_id is not None
    url = await federation(services).logout.logout(
        caller.claims.session_id,
        caller.actor,
        body.post_logout_redirect_uri if body is not None else None,
    )
    return JSONResponse(
        LogoutResult(end_session_url=url).model_dump(by_alias=True), headers=NO_STORE
    )
