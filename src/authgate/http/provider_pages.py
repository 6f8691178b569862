"""The provider's server-rendered pages: sign-in (email first), consent, sign-out, errors.

No JavaScript. Every page is ``no-store``, never framed, sends no referrer, and its forms may
post only to authgate; the app's own origin is added to ``form-action`` on pages whose form
ends in a redirect to the app, because browsers apply ``form-action`` to that redirect too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from authgate.provider.models import OAuthClient

_templates = Environment(
    loader=PackageLoader("authgate.http", "templates"), autoescape=select_autoescape(["j2"])
)


@dataclass(frozen=True, slots=True)
class Field:
    """A visible input."""

    name: str
    label: str
    type: str = "text"
    autocomplete: str = "off"
    value: str = ""
    required: bool = True
    autofocus: bool = False


@dataclass(frozen=True, slots=True)
class Button:
    """A submit button; its name and value are posted."""

    label: str
    name: str = "action"
    value: str = "submit"


@dataclass(frozen=True, slots=True)
class Form:
    """One form of a page."""

    action: str
    hidden: list[tuple[str, str]] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    note: str | None = None


def _headers(form_targets: tuple[str, ...]) -> dict[str, str]:
    sources = " ".join(["'self'", *form_targets])
    return {
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
            f"form-action {sources}; frame-ancestors 'none'; base-uri 'none'"
        ),
    }


def redirect_source(uri: str) -> str | None:
    """The CSP source that allows a redirect to ``uri``: its origin, or its scheme for a
    native app's private-use scheme."""
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    if parts.scheme and parts.scheme.replace(".", "").replace("-", "").replace("+", "").isalnum():
        return f"{parts.scheme}:"
    return None


def render(
    title: str,
    *,
    status: int = 200,
    client: OAuthClient | None = None,
    error: str | None = None,
    done: str | None = None,
    intro: str | None = None,
    scopes: list[str] | None = None,
    forms: list[Form] | None = None,
    redirects_to: tuple[str, ...] = (),
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page; ``redirects_to`` lists URIs its forms may end up redirecting to."""
    context: dict[str, Any] = {
        "title": title,
        "app": client,
        "error": error,
        "done": done,
        "intro": intro,
        "scopes": scopes or [],
        "forms": forms or [],
    }
    html = _templates.get_template("provider.html.j2").render(**context)
    sources = tuple(s for s in (redirect_source(uri) for uri in redirects_to) if s is not None)
    response = HTMLResponse(html, status_code=status, headers=_headers(sources))
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
