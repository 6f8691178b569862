"""What the provider's page routes share: reading parameters and forms, the session
cookie, and the sign-in, consent and error pages."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl

from fastapi import Request, Response

from authgate.errors import BadRequest
from authgate.http.oauth_forms import FORM_TYPE, MAX_FORM_BYTES
from authgate.http.provider_pages import Button, Field, Form, render
from authgate.provider.authorization import AuthorizationRequest
from authgate.provider.browser_sessions import COOKIE_NAME
from authgate.provider.models import OAuthClient
from authgate.provider.scopes import SCOPE_DESCRIPTIONS
from authgate.provider.service import PROVIDER_SSO_CLIENT as PROVIDER_SSO_CLIENT
from authgate.provider.service import SSO_RETURN_PATH as SSO_RETURN_PATH

SIGN_IN_TITLE = "Sign in"
MAX_VALUE_CHARS = 8192


async def collect_params(request: Request) -> tuple[dict[str, str], set[str]]:
    """The request's parameters (the query for GET, the form for POST), first values, and
    the names given more than once (RFC 6749 §3.1)."""
    if request.method == "POST":
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            raise BadRequest(f"the form must be at most {MAX_FORM_BYTES} bytes")
        media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type != FORM_TYPE:
            raise BadRequest(f"the request body must be {FORM_TYPE}")
        pairs: Iterable[tuple[str, str]] = parse_qsl(
            body.decode("utf-8", "replace"), keep_blank_values=True
        )
    else:
        pairs = request.query_params.multi_items()
    params: dict[str, str] = {}
    repeated: set[str] = set()
    for name, value in pairs:
        if name in params:
            repeated.add(name)
            continue
        params[name] = value[:MAX_VALUE_CHARS]
    return params, repeated


async def form_fields(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    """The named fields of a page's form post (others ignored)."""
    params, _ = await collect_params(request)
    return {name: params[name] for name in names if name in params}


def set_session_cookie(response: Response, secret: str, ttl: int, *, secure: str) -> None:
    """The browser session cookie: HttpOnly, SameSite=Lax, Secure on an https issuer."""
    response.set_cookie(
        COOKIE_NAME,
        secret,
        max_age=ttl,
        path="/oauth",
        httponly=True,
        secure=secure.startswith("https://"),
        samesite="lax",
    )


def clear_session_cookie(response: Response) -> None:
    """Remove the browser session cookie."""
    response.delete_cookie(COOKIE_NAME, path="/oauth")


def error_page(message: str, status: int = 400) -> Response:
    """An error the app must not hear of by redirect (bad client or redirect URI)."""
    return render("Cannot continue", status=status if status >= 400 else 400, error=message)


def signin_page(
    client: OAuthClient, sealed: str, email: str, *, error: str | None = None, status: int = 200
) -> Response:
    """The first step: the email address."""
    form = Form(
        "/oauth/signin",
        hidden=[("request", sealed)],
        fields=[Field("email", "Email address", "email", "username", email, autofocus=not email)],
        buttons=[Button("Continue")],
    )
    return render(
        SIGN_IN_TITLE,
        status=status,
        client=client,
        error=error,
        intro=f"Sign in to continue to {client.name}.",
        forms=[form],
        redirects_to=client.redirect_uris,
    )


def password_page(
    client: OAuthClient,
    sealed: str,
    email: str,
    idps: list[tuple[str, str, str]],
    *,
    password_allowed: bool,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """The second step: the password, and the organization's IdPs for the email's domain."""
    forms = []
    if password_allowed:
        forms.append(
            Form(
                "/oauth/signin",
                hidden=[("request", sealed)],
                fields=[
                    Field("email", "Email address", "email", "username", email),
                    Field("password", "Password", "password", "current-password", autofocus=True),
                ],
                buttons=[Button("Sign in")],
            )
        )
    for number, (idp_id, name, _) in enumerate(idps):
        forms.append(
            Form(
                "/oauth/signin/sso",
                hidden=[("request", sealed), ("email", email)],
                buttons=[Button(f"Continue with {name}", "idp", idp_id)],
                note="Or" if number == 0 and password_allowed else None,
            )
        )
    return render(
        SIGN_IN_TITLE,
        status=status,
        client=client,
        error=error,
        intro=f"Sign in as {email} to continue to {client.name}.",
        forms=forms,
        redirects_to=(*client.redirect_uris, *(endpoint for _, _, endpoint in idps if endpoint)),
    )


def consent_page(client: OAuthClient, request: AuthorizationRequest, sealed: str) -> Response:
    """What the app asks for, and Allow / Deny."""
    scopes = request.scope.split()
    listed = [SCOPE_DESCRIPTIONS.get(scope, scope) for scope in scopes]
    form = Form(
        "/oauth/consent",
        hidden=[("request", sealed)],
        buttons=[Button("Allow", "decision", "allow"), Button("Deny", "decision", "deny")],
    )
    return render(
        f"Allow {client.name}?",
        client=client,
        intro=f"{client.name} asks to:",
        scopes=listed,
        forms=[form],
        redirects_to=(request.redirect_uri,),
    )
