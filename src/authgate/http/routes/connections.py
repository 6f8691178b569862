"""A signed-in user's OAuth connections ("secondary credentials") to other providers.

``GET /v1/connections/{name}/authorize`` starts the provider's authorization code flow
(RFC 6749 §4.1, PKCE S256) for the caller and answers the URL a device opens in a browser
(or, to ``Accept: text/html``, redirects there). The provider sends the browser back to
``GET /v1/connections/callback``, which needs no bearer token: the single-use state binds
the user and the credential (a bearer token, if one is sent, must be that user's). It
exchanges the code, stores the tokens sealed, and shows a small page
(``Referrer-Policy: no-referrer``, so the code in the address goes nowhere).

``GET /v1/connections`` lists the caller's connections and ``DELETE /v1/connections/{name}``
forgets one. No response ever holds a token.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from authgate.errors import AuthgateError, NotFound
from authgate.http.deps import ServicesDep, UserDep, current_caller, current_user
from authgate.http.routes.pages import page
from authgate.vault.models import Connection, ConnectionStatus, Credential

router = APIRouter(prefix="/v1/connections", tags=["connections"])

CALLBACK_PATH = "/v1/connections/callback"
MAX_STATE_CHARS = 512
MAX_CODE_CHARS = 4096
_NAME = Path(min_length=1, max_length=128, description="The oauth_client credential's name.")
_SOLUTION = Query(
    default=None, min_length=1, max_length=128, description="The solution of a scoped credential."
)
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_TITLE = "Connect your account"
# RFC 6749 §4.1.2.1 error codes, shown as they are; anything else is not repeated back.
_AUTHORIZATION_ERRORS = {
    "access_denied": "You did not allow access, so nothing was connected.",
    "invalid_request": "The provider refused the request (invalid_request).",
    "unauthorized_client": "The provider does not let this client ask (unauthorized_client).",
    "unsupported_response_type": "The provider refused the request (unsupported_response_type).",
    "invalid_scope": "The provider refused the requested scopes (invalid_scope).",
    "server_error": "The provider had an error (server_error); try again later.",
    "temporarily_unavailable": "The provider is busy (temporarily_unavailable); try again later.",
}


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class AuthorizationView(_Camel):
    """Where the user consents: open it in a browser; it works once, for a few minutes."""

    authorization_url: str


class ConnectionView(_Camel):
    """One of the user's connections: never a token."""

    name: str
    solution: str | None
    status: ConnectionStatus
    scopes: list[str]
    expires_at: datetime | None
    connected_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, credential: Credential, connection: Connection) -> ConnectionView:
        """The view of a stored connection."""
        return cls(
            name=credential.name,
            solution=credential.solution,
            status=connection.status,
            scopes=connection.scope.split(),
            expires_at=connection.access_expires_at,
            connected_at=connection.created_at,
            updated_at=connection.updated_at,
        )


@router.get("", response_model=list[ConnectionView], response_model_by_alias=True)
async def list_connections(caller: UserDep, services: ServicesDep) -> JSONResponse:
    """The caller's connections in the organization: status, scopes and expiry."""
    found = await services.connections.list_for_user(caller.claims.org_id, caller.claims.subject)
    views = [ConnectionView.of(credential, connection) for credential, connection in found]
    body = [view.model_dump(mode="json", by_alias=True) for view in views]
    return JSONResponse(body, headers=_NO_STORE)


@router.get(
    "/callback",
    response_class=HTMLResponse,
    responses={400: {"description": "A bad, used or expired state, or a refusal."}},
)
async def callback(request: Request, services: ServicesDep) -> HTMLResponse:
    """Where the provider sends the browser back (RFC 6749 §4.1.2): store the tokens."""
    query = request.query_params
    state, code, error = query.get("state", ""), query.get("code", ""), query.get("error")
    if len(state) > MAX_STATE_CHARS or len(code) > MAX_CODE_CHARS:
        return page(_TITLE, status=400, error="This address is too long to be a provider's answer.")
    if error is not None:
        if state:
            await services.connections.abandon(state)
        message = _AUTHORIZATION_ERRORS.get(error, "The provider answered with an error.")
        return page("Not connected", status=403 if error == "access_denied" else 400, error=message)
    if not state or not code:
        return page(
            _TITLE,
            status=400,
            error="This address lacks the provider's answer (state and code); start again "
            "from the app.",
        )
    try:
        # A device completing the flow itself may show who it is; then the state must be
        # that user's. A browser shows nothing, and the state alone names the user.
        user_id = None
        if request.headers.get("authorization") is not None:
            user_id = (await current_user(await current_caller(request, services))).claims.subject
        await services.connections.complete(state, code, user_id)
    except AuthgateError as exc:
        return page(_TITLE, status=exc.status, error=exc.message)
    return page(
        "Account connected",
        done="Your account is connected. You can close this window and go back to the app.",
    )


@router.get(
    "/{name}/authorize",
    response_model=AuthorizationView,
    response_model_by_alias=True,
    responses={302: {"description": "To the provider, for a caller that accepts text/html."}},
)
async def authorize(
    request: Request,
    caller: UserDep,
    services: ServicesDep,
    name: str = _NAME,
    solution: str | None = _SOLUTION,
) -> Response:
    """Start connecting the caller's account: the provider's authorization URL."""
    credential = await services.connections.credential(caller.claims.org_id, name, solution)
    redirect_uri = services.settings.issuer.rstrip("/") + CALLBACK_PATH
    url = await services.connections.authorize_url(credential, caller.claims.subject, redirect_uri)
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse(url, status_code=302, headers=_NO_STORE)
    body = AuthorizationView(authorization_url=url).model_dump(by_alias=True)
    return JSONResponse(body, headers=_NO_STORE)


@router.delete("/{name}", status_code=204)
async def disconnect(
    caller: UserDep,
    services: ServicesDep,
    name: str = _NAME,
    solution: str | None = _SOLUTION,
) -> Response:
    """Forget the caller's tokens for the credential (connect again with ``authorize``)."""
    credential = await services.connections.credential(caller.claims.org_id, name, solution)
    if not await services.connections.disconnect(credential, caller.claims.subject):
        raise NotFound(f"you have no connection for '{name}'; GET /v1/connections lists them")
    return Response(status_code=204, headers=_NO_STORE)
