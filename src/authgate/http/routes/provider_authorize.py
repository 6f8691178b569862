"""The authorization endpoint and the pages behind it (RFC 6749 §4.1, OpenID Connect Core
§3.1.2): sign-in starting from the email (a password, or a hand-off to the organization's
IdP), and consent.

An invalid client or redirect URI gets an error page, never a redirect; every other error
goes back to the app with ``state`` and RFC 9207 ``iss``. A GET never signs anyone in or
grants anything: only the pages' forms do, with the request sealed in them.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from authgate.crypto.randomness import new_secret
from authgate.errors import AuthgateError, ServiceUnavailable
from authgate.federation.errors import InvalidRedirectUri
from authgate.http.deps import ServicesDep, client_ip
from authgate.http.provider_forms import (
    PROVIDER_SSO_CLIENT,
    SSO_RETURN_PATH,
    collect_params,
    consent_page,
    error_page,
    form_fields,
    password_page,
    set_session_cookie,
    signin_page,
)
from authgate.http.services import Services
from authgate.identity.deps import Actor
from authgate.provider.authorization import AuthorizationRequest, check_request, redirect_target
from authgate.provider.authorize import Consent, Decision, Redirect
from authgate.provider.browser_sessions import COOKIE_NAME
from authgate.provider.errors import (
    AccessDenied,
    InvalidAuthorizationRequest,
    StaleAuthorization,
)
from authgate.provider.models import BrowserSession, OAuthClient
from authgate.provider.service import Provider
from authgate.vault.connections import pkce_challenge

router = APIRouter(include_in_schema=False)
SSO_COOKIE = "authgate_sso"
SIGNIN_COOKIE = "authgate_signin"
SIGN_IN = "Sign in"


def provider(services: Services) -> Provider:
    """The provider's services (wired by ``authgate.app``)."""
    if services.provider is None:
        raise ServiceUnavailable("the OAuth provider is not available on this server")
    return services.provider


@router.get("/oauth/authorize")
@router.post("/oauth/authorize")
async def authorize(request: Request, services: ServicesDep) -> Response:
    """OpenID Connect Core §3.1.2.1 (GET and POST)."""
    p = provider(services)
    params, repeated = await collect_params(request)
    try:
        if "request_uri" in params:
            params = await p.pushed.take(params.get("client_id"), params["request_uri"])
        client = await p.clients.find(params.get("client_id") or "")
        if client is None:
            return error_page("client_id is not a registered, enabled client", 400)
        if "client_id" in repeated or "redirect_uri" in repeated:
            return error_page("client_id and redirect_uri may each be given only once", 400)
        redirect_uri = redirect_target(client, params)
    except AuthgateError as exc:
        return error_page(exc.message, exc.status)
    try:
        if repeated:
            raise InvalidAuthorizationRequest(
                f"the parameter '{sorted(repeated)[0][:40]}' is repeated"
            )
        checked = check_request(client, params, redirect_uri)
    except AuthgateError as exc:
        state = params.get("state") if "state" not in repeated else None
        early = p.authorizations.error_at(redirect_uri, state, exc)
        return RedirectResponse(early.location, 302, headers=_NO_STORE)
    session = await p.browser.current(request.cookies.get(COOKIE_NAME))
    decision = await p.authorizations.decide(checked, client, session)
    return _respond(p, decision, client, request.method)


_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _respond(
    p: Provider,
    decision: Decision,
    client: OAuthClient,
    method: str,
    *,
    cookie: tuple[BrowserSession, str] | None = None,
) -> Response:
    if isinstance(decision, Redirect):
        response: Response = RedirectResponse(
            decision.location, 302 if method == "GET" else 303, headers=_NO_STORE
        )
    elif isinstance(decision, Consent):
        sealed = p.pending.seal(decision.request, session_id=decision.session.id)
        response = consent_page(client, decision.request, sealed)
    else:
        # The form works only with the cookie set beside it: a cross-site post (which a
        # SameSite=Lax cookie does not accompany) cannot sign a browser in (login CSRF).
        nonce = new_secret(16)
        sealed = p.pending.seal(decision.request, session_id=_signin_binding(nonce))
        response = signin_page(client, sealed, decision.request.login_hint or "")
        response.set_cookie(
            SIGNIN_COOKIE,
            nonce,
            max_age=p.pending.ttl,
            path="/oauth/signin",
            httponly=True,
            secure=p.id_tokens.issuer.startswith("https://"),
            samesite="lax",
        )
    if cookie is not None:
        set_session_cookie(response, cookie[1], p.browser.ttl, secure=p.id_tokens.issuer)
    return response


def _signin_binding(nonce: str) -> str:
    return f"signin:{nonce}"


def _signin_nonce(request: Request) -> str:
    return _signin_binding(request.cookies.get(SIGNIN_COOKIE, "")[:64])


async def _opened(
    p: Provider, sealed: str, session_id: str | None = None
) -> tuple[AuthorizationRequest, OAuthClient]:
    checked = p.pending.open(sealed, session_id=session_id)
    client = await p.clients.find(checked.client_id)
    if client is None:
        raise StaleAuthorization("the app is no longer registered; go back to the app")
    return checked, client


@router.post("/oauth/signin")
async def sign_in(request: Request, services: ServicesDep) -> Response:
    """The email step (which ways to sign in), then the password step."""
    p = provider(services)
    form = await form_fields(request, ("request", "email", "password"))
    try:
        checked, client = await _opened(p, form.get("request", ""), _signin_nonce(request))
    except AuthgateError as exc:
        return error_page(exc.message, exc.status)
    email = form.get("email", "").strip()[:254]
    if not email or "@" not in email:
        return signin_page(client, form["request"], email, error="Enter your email address.")
    password = form.get("password")
    idps = await _idps_for(services, client, email)
    allowed = await p.password_allowed(client)
    if password is None or not allowed:
        return password_page(client, form["request"], email, idps, password_allowed=allowed)
    actor = Actor(None, client_ip(request))
    try:
        session, secret = await p.sign_in_with_password(client, email, password, actor)
    except AuthgateError as exc:
        return password_page(
            client, form["request"], email, idps, password_allowed=True, error=exc.message,
            status=exc.status,
        )  # fmt: skip
    decision = await p.authorizations.decide(checked, client, session, signed_in_now=True)
    return _respond(p, decision, client, "POST", cookie=(session, secret))


async def _idps_for(
    services: Services, client: OAuthClient, email: str
) -> list[tuple[str, str, str]]:
    """The app organization's IdPs that serve the email's domain: (id, display name, the
    authorization endpoint the hand-off ends at, for the page's ``form-action``)."""
    if services.federation is None:
        return []
    try:
        realm = await services.federation.realm.discover(email)
    except AuthgateError:
        return []
    return [
        (
            entry.idp.id,
            entry.idp.display_name,
            entry.metadata.authorization_endpoint if entry.metadata is not None else "",
        )
        for entry in realm.idps
        if entry.org.id == client.org_id
    ]


@router.post("/oauth/signin/sso")
async def sign_in_sso(request: Request, services: ServicesDep) -> Response:
    """Hand the person to the organization's IdP; they come back to the return path."""
    p = provider(services)
    form = await form_fields(request, ("request", "idp", "email"))
    try:
        checked, _ = await _opened(p, form.get("request", ""), _signin_nonce(request))
        if services.federation is None:
            raise ServiceUnavailable("single sign-on is not available on this server")
        handle = new_secret()
        url = await services.federation.brokered.start(
            form.get("idp", "")[:64],
            client_id=PROVIDER_SSO_CLIENT,
            redirect_uri=p.id_tokens.issuer + SSO_RETURN_PATH,
            code_challenge=pkce_challenge(_verifier(p, handle)),
            code_challenge_method="S256",
            app_state=handle,
            login_hint=form.get("email") or None,
            actor=Actor(None, client_ip(request)),
        )
    except (AuthgateError, InvalidRedirectUri) as exc:
        return error_page(exc.message, exc.status)
    response = RedirectResponse(url, 303, headers=_NO_STORE)
    response.set_cookie(
        SSO_COOKIE,
        f"{handle}.{p.pending.seal(checked, session_id=handle)}",
        max_age=900,
        path=SSO_RETURN_PATH,
        httponly=True,
        secure=p.id_tokens.issuer.startswith("https://"),
        samesite="lax",
    )
    return response


def _verifier(p: Provider, handle: str) -> str:
    # Derived, not stored: only this server can compute it from the handle.
    return p.deps.keyed.digest(f"provider sso pkce\x00{handle}")


@router.get(SSO_RETURN_PATH)
async def sso_return(request: Request, services: ServicesDep) -> Response:
    """Back from the IdP (through authgate's SSO callback) with a one-time code."""
    p = provider(services)
    query = request.query_params
    handle, _, sealed = request.cookies.get(SSO_COOKIE, "").partition(".")
    try:
        if not handle or query.get("state") != handle:
            raise StaleAuthorization("this sign-in was started in another browser; start again")
        checked, client = await _opened(p, sealed, handle)
    except AuthgateError as exc:
        return error_page(exc.message, exc.status)
    if services.federation is None or query.get("error") or not query.get("code"):
        description = query.get("error_description") or "your identity provider refused the sign-in"
        return _finish(p, p.authorizations.error(checked, AccessDenied(description[:300])), client)
    try:
        admission, idp_id = await services.federation.brokered.admit(
            code=query["code"],
            code_verifier=_verifier(p, handle),
            redirect_uri=p.id_tokens.issuer + SSO_RETURN_PATH,
            client_id=PROVIDER_SSO_CLIENT,
            actor=Actor(None, client_ip(request)),
        )
    except AuthgateError as exc:
        return _finish(p, p.authorizations.error(checked, AccessDenied(exc.message)), client)
    session, secret = await p.sign_in_federated(
        admission.user, idp_id, client, Actor(None, client_ip(request))
    )
    decision = await p.authorizations.decide(checked, client, session, signed_in_now=True)
    return _finish(p, decision, client, cookie=(session, secret))


def _finish(
    p: Provider,
    decision: Decision,
    client: OAuthClient,
    *,
    cookie: tuple[BrowserSession, str] | None = None,
) -> Response:
    response = _respond(p, decision, client, "GET", cookie=cookie)
    response.delete_cookie(SSO_COOKIE, path=SSO_RETURN_PATH)
    return response


@router.post("/oauth/consent")
async def consent(request: Request, services: ServicesDep) -> Response:
    """The person's answer on the consent page."""
    p = provider(services)
    form = await form_fields(request, ("request", "decision"))
    session = await p.browser.current(request.cookies.get(COOKIE_NAME))
    try:
        if session is None:
            raise StaleAuthorization(
                "you were signed out meanwhile; go back to the app and start again"
            )
        checked, client = await _opened(p, form.get("request", ""), session.id)
    except AuthgateError as exc:
        return error_page(exc.message, exc.status)
    decision = await p.authorizations.decide_consent(
        checked, client, session, allowed=form.get("decision") == "allow",
        actor=Actor(session.user_id, client_ip(request)),
    )  # fmt: skip
    return _respond(p, decision, client, "POST")
