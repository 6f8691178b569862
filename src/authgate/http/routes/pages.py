"""The pages that emailed links open: accept an invite, verify an email, reset a password.

Server-rendered, no JavaScript. A GET never spends a token (mail scanners follow links);
only submitting the form does. Pages carry ``Referrer-Policy: no-referrer`` so the token in
the address never leaks to another site, and ``Cache-Control: no-store``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from authgate.errors import AuthgateError
from authgate.http.deps import AnonymousDep, ServicesDep

router = APIRouter(include_in_schema=False)
_templates = Environment(
    loader=PackageLoader("authgate.http", "templates"), autoescape=select_autoescape(["j2"])
)
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    ),
}
NEW_PASSWORD = {
    "name": "password",
    "label": "New password (8 characters or more)",
    "type": "password",
    "autocomplete": "new-password",
    "required": True,
}


@dataclass
class PageForm:
    """A form posting the link's token back with a few fields."""

    action: str
    token: str
    submit: str
    fields: list[dict[str, Any]] = field(default_factory=list)
    organization: str | None = None


def page(
    title: str,
    *,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
    form: PageForm | None = None,
) -> HTMLResponse:
    """Render the one page template."""
    html = _templates.get_template("page.html.j2").render(
        title=title, error=error, done=done, form=form
    )
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def _failed(title: str, error: AuthgateError, form: PageForm) -> HTMLResponse:
    # The form again, so the person can correct it, unless the link itself is spent (410).
    return page(
        title, status=error.status, error=error.message, form=None if error.status == 410 else form
    )


def _token(request: Request) -> str:
    return request.query_params.get("token", "")[:256]


def _invite_form(token: str) -> PageForm:
    return PageForm(
        "/accept-invite",
        token,
        "Accept the invitation",
        [
            {
                "name": "display_name",
                "label": "Your name",
                "type": "text",
                "autocomplete": "name",
                "required": False,
            },
            {**NEW_PASSWORD, "label": "Password (new, or your current one if you have an account)"},
        ],
    )


@router.get("/accept-invite")
async def accept_invite_page(request: Request) -> HTMLResponse:
    """The form behind an invitation link."""
    return page("Join your organization on authgate", form=_invite_form(_token(request)))


@router.post("/accept-invite")
async def accept_invite_submit(
    services: ServicesDep,
    actor: AnonymousDep,
    token: str = Form(max_length=256),
    password: str = Form(max_length=4096),
    display_name: str = Form("", max_length=200),
) -> HTMLResponse:
    """Accept; the person then signs in on their device."""
    try:
        _, org, _ = await services.invites.accept(token, password, display_name or None, actor)
    except AuthgateError as exc:
        return _failed("Join your organization on authgate", exc, _invite_form(token))
    return page(
        "You're in",
        done=f"You joined {org.name}. Sign in on your device with your email address and password.",
    )


@router.get("/verify-email")
async def verify_email_page(request: Request) -> HTMLResponse:
    """A button that confirms the address (a GET alone changes nothing)."""
    form = PageForm(
        "/verify-email",
        _token(request),
        "Confirm my email address",
        organization=request.query_params.get("org", "")[:64] or None,
    )
    return page("Confirm your email address", form=form)


@router.post("/verify-email")
async def verify_email_submit(
    services: ServicesDep,
    actor: AnonymousDep,
    token: str = Form(max_length=256),
    organization: str = Form("", max_length=64),
) -> HTMLResponse:
    """Verify, then join or ask to join as the API does."""
    try:
        user = await services.accounts.verify_email(token, actor)
        if organization:
            await services.join_requests.request_by_slug(organization, user, actor)
            return page(
                "Email confirmed",
                done="Your request to join was sent to the "
                "organization's admins; you'll get an email.",
            )
        joined = await services.join_requests.join_by_domain(user, actor)
    except AuthgateError as exc:
        return page("Confirm your email address", status=exc.status, error=exc.message)
    message = "Your email address is confirmed."
    if joined:
        message += " Organizations for your domain: " + ", ".join(o.name for o in joined) + "."
    return page("Email confirmed", done=message)


def _reset_form(token: str) -> PageForm:
    return PageForm("/reset-password", token, "Set the new password", [NEW_PASSWORD])


@router.get("/reset-password")
async def reset_password_page(request: Request) -> HTMLResponse:
    """The form behind a reset link."""
    return page("Choose a new password", form=_reset_form(_token(request)))


@router.post("/reset-password")
async def reset_password_submit(
    services: ServicesDep,
    actor: AnonymousDep,
    token: str = Form(max_length=256),
    password: str = Form(max_length=4096),
) -> HTMLResponse:
    """Reset; every session of the account ends."""
    try:
        await services.accounts.reset_password(token, password, actor)
    except AuthgateError as exc:
        return _failed("Choose a new password", exc, _reset_form(token))
    return page(
        "Password changed",
        done="Your password was changed and every device was "
        "signed out. Sign in again with the new password.",
    )
