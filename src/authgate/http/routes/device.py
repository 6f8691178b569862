"""The device authorization grant's endpoints (RFC 8628) and the verification page.

``POST /oauth/device_authorization`` (§3.1) starts a sign-in for a device without a browser;
``/device`` (§3.3) is where the person types the code shown on the device, signs in and
allows or denies it; ``POST /v1/device/decision`` does the same for a person already signed
in elsewhere (an app with a bearer token). The device then polls ``/oauth/token`` with the
``urn:ietf:params:oauth:grant-type:device_code`` grant.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, Field

from authgate.errors import AuthgateError, InvalidClient, InvalidToken, ServiceUnavailable
from authgate.http.deps import AnonymousDep, ServicesDep, UserDep
from authgate.http.errors import NO_STORE
from authgate.http.oauth_forms import client_credentials, parse_form
from authgate.http.routes.auth import Strict
from authgate.http.routes.oauth import FORM_BODY
from authgate.http.routes.pages import PAGE_HEADERS
from authgate.http.services import Services
from authgate.tokens.device_authorization import DeviceAuthorizations

router = APIRouter(tags=["device"])
_templates = Environment(
    loader=PackageLoader("authgate.http", "templates"), autoescape=select_autoescape(["j2"])
)
TITLE = "Sign in a device"
# The single sign-on form ends in a redirect to the organization's IdP, which browsers check
# against form-action too; which IdP is only known once the email is typed.
DEVICE_PAGE_HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": PAGE_HEADERS["Content-Security-Policy"].replace(
        "form-action 'self'", "form-action 'self' https:"
    ),
}


def grants(services: Services) -> DeviceAuthorizations:
    """The device authorization service (wired by ``authgate.app``)."""
    if services.device_authorizations is None:
        raise ServiceUnavailable("device authorization is not enabled on this server")
    return services.device_authorizations


@router.post("/oauth/device_authorization", openapi_extra=FORM_BODY)
async def device_authorization(request: Request, services: ServicesDep) -> JSONResponse:
    """RFC 8628 §3.1: a device code, a user code and where the person enters it."""
    form = parse_form(await request.body(), request.headers.get("content-type"))
    credentials = client_credentials(form, request.headers.get("authorization"))
    if credentials.client_secret is not None:
        raise InvalidClient("the device authorization grant is for public clients: no secret")
    started = await grants(services).start(credentials.client_id or "", form.get("scope"))
    return JSONResponse(started.as_json(), headers=NO_STORE)


def device_page(
    *, status: int = 200, error: str | None = None, done: str | None = None, user_code: str = ""
) -> HTMLResponse:
    """The verification page (its forms, or only an error or a message)."""
    html = _templates.get_template("device.html.j2").render(
        title=TITLE, error=error, done=done, user_code=user_code
    )
    return HTMLResponse(html, status_code=status, headers=DEVICE_PAGE_HEADERS)


@router.get("/device", include_in_schema=False)
async def device_form(request: Request) -> HTMLResponse:
    """The form: the code (filled in from ``verification_uri_complete``), email, password."""
    return device_page(user_code=request.query_params.get("user_code", "")[:16])


@router.post("/device", include_in_schema=False)
async def device_submit(
    services: ServicesDep,
    actor: AnonymousDep,
    user_code: str = Form(max_length=16),
    email: str = Form(max_length=254),
    password: str = Form(max_length=4096),
    organization: str = Form("", max_length=64),
    decision: str = Form("allow", max_length=8),
) -> HTMLResponse:
    """Sign in, then allow or deny the device; a GET alone never decides anything."""
    allow = decision != "deny"
    try:
        org = await grants(services).decide_signing_in(
            user_code, email, password, organization or None, allow=allow, actor=actor
        )
    except AuthgateError as exc:
        return device_page(status=exc.status, error=exc.message, user_code=user_code)
    if org is not None:
        return device_page(done=f"The device is signed in to {org.name}. You can close this page.")
    return device_page(done="The device was denied. Nothing was signed in.")


class DecisionRequest(Strict):
    user_code: str = Field(min_length=1, max_length=16)
    allow: bool = True


class DecisionView(BaseModel):
    status: str


@router.post("/v1/device/decision", response_model=DecisionView)
async def decide(body: DecisionRequest, caller: UserDep, services: ServicesDep) -> DecisionView:
    """Allow (or deny) a device from a session that is already signed in; the device's
    session is in the organization of the caller's token."""
    user = await services.deps.store.users.get(caller.claims.subject)
    org = await services.deps.store.orgs.get(caller.claims.org_id)
    if user is None or org is None:
        raise InvalidToken("the user of this token no longer exists")
    await grants(services).decide(body.user_code, user, org, allow=body.allow, actor=caller.actor)
    return DecisionView(status="allowed" if body.allow else "denied")
