"""The provider's other endpoints: pushed authorization requests (RFC 9126), userinfo
(OpenID Connect Core §5.3) and RP-initiated logout (RP-Initiated Logout 1.0)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from authgate.errors import AuthgateError
from authgate.http.deps import ServicesDep, client_ip, parse_bearer
from authgate.http.errors import NO_STORE
from authgate.http.oauth_forms import client_credentials, parse_form
from authgate.http.provider_forms import clear_session_cookie, collect_params, error_page
from authgate.http.provider_pages import Button, Form, render
from authgate.http.routes.provider_authorize import provider
from authgate.identity.deps import Actor
from authgate.provider.browser_sessions import COOKIE_NAME

router = APIRouter(tags=["oauth"])
FORM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}},
    }
}
SIGNED_OUT = "Signed out"


@router.post("/oauth/par", status_code=201, openapi_extra=FORM_BODY)
async def pushed_authorization_request(request: Request, services: ServicesDep) -> JSONResponse:
    """RFC 9126 §2: store an authorization request; answer its ``request_uri``."""
    p = provider(services)
    form = parse_form(await request.body(), request.headers.get("content-type"))
    credentials = client_credentials(form, request.headers.get("authorization"))
    client = await p.clients.authenticate(credentials.client_id, credentials.client_secret)
    request_uri = await p.pushed.push(client, form)
    return JSONResponse(
        {"request_uri": request_uri, "expires_in": p.pushed.ttl}, 201, headers=NO_STORE
    )


@router.get("/oauth/userinfo")
@router.post("/oauth/userinfo")
async def userinfo(request: Request, services: ServicesDep) -> JSONResponse:
    """OpenID Connect Core §5.3: the signed-in person's claims, as the token's scopes allow.

    Served by :mod:`authgate.http.userinfo_endpoint` before this route is reached; this one
    describes it in the OpenAPI document and answers when the lean path is not in front."""
    p = provider(services)
    claims = await p.access.verify_current(parse_bearer(request.headers.get("authorization")))
    return JSONResponse(await p.userinfo(claims), headers=NO_STORE)


@router.get("/oauth/logout", include_in_schema=False)
@router.post("/oauth/logout", include_in_schema=False)
async def end_session(request: Request, services: ServicesDep) -> Response:
    """RP-Initiated Logout 1.0 §2: sign out of authgate, then back to the app if it asked."""
    p = provider(services)
    params, _ = await collect_params(request)
    try:
        plan = await p.logouts.plan(params)
    except AuthgateError as exc:
        return error_page(exc.message, exc.status)
    current = await p.browser.current(request.cookies.get(COOKIE_NAME))
    confirmed = request.method == "POST" and params.get("decision") == "logout"
    if plan.user_id is None and not confirmed:
        if current is None:
            return _signed_out(plan.redirect)
        return _confirm(params)
    ended = (
        {current.id} if current is not None and plan.user_id in (None, current.user_id) else set()
    )
    if plan.session_id is not None:
        named = await p.browser.get(plan.session_id)
        if named is not None and named.user_id == plan.user_id:
            ended.add(named.id)
    for session_id in ended:
        await p.browser.end(session_id)
    if ended:
        await p.deps.audit(
            "oauth.logout",
            _actor(request, current.user_id if current else plan.user_id),
            subject=",".join(sorted(ended)),
        )
    return _signed_out(plan.redirect)


def _actor(request: Request, user_id: str | None) -> Actor:
    return Actor(user_id, client_ip(request))


def _signed_out(redirect: str | None) -> Response:
    response: Response
    if redirect is not None:
        response = RedirectResponse(redirect, 303, headers=NO_STORE)
    else:
        response = render(SIGNED_OUT, done="You are signed out of authgate.")
    clear_session_cookie(response)
    return response


def _confirm(params: dict[str, str]) -> Response:
    kept: list[tuple[str, str]] = [
        (name, params[name])
        for name in ("post_logout_redirect_uri", "state", "client_id")
        if name in params
    ]
    form = Form(
        "/oauth/logout",
        hidden=kept,
        buttons=[Button("Sign out", "decision", "logout")],
    )
    redirect = params.get("post_logout_redirect_uri")
    return render(
        "Sign out?",
        intro="Sign out of authgate in this browser?",
        forms=[form],
        redirects_to=(redirect,) if redirect else (),
    )
