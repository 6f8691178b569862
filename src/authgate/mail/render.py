"""Render the named email templates into a subject, a plain-text body and an HTML body.

Each email ``<name>`` is three Jinja2 files in ``authgate/mail/templates``:
``<name>.subject.j2``, ``<name>.txt.j2`` and ``<name>.html.j2`` (only the HTML is
autoescaped). Every key a template uses must be in the context: a missing one is an error,
never an empty string.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

import jinja2

from authgate.mail.errors import InvalidTemplateValue, MissingTemplateKey, UnknownTemplate
from authgate.mail.headers import check_header_text

TEMPLATE_KEYS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "invite": frozenset({"org_name", "inviter_name", "role", "link", "expires_at"}),
        "verify_email": frozenset({"display_name", "link", "expires_at"}),
        "reset_password": frozenset({"display_name", "link", "expires_at"}),
        "password_changed": frozenset({"display_name"}),
        "join_request_received": frozenset({"org_name", "user_email", "user_name", "link"}),
        "join_request_submitted": frozenset({"org_name", "display_name"}),
        "join_request_decided": frozenset({"org_name", "display_name", "decision"}),
        "welcome": frozenset({"org_name", "display_name"}),
    }
)
"""Every email template, and the context keys (all strings) it needs."""

DECISIONS = frozenset({"approved", "denied"})
"""The values ``decision`` may take in ``join_request_decided``."""

_PARTS = ("subject", "txt", "html")


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """One rendered email: a one-line subject, a plain-text body and an HTML body."""

    subject: str
    text: str
    html: str


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("authgate.mail", "templates"),
        # Only the HTML part is escaped; subject and text are plain text, not markup.
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False, default=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def template_source_names(template: str) -> tuple[str, str, str]:
    """The file names of a template's subject, text and HTML parts."""
    subject, text, html = (f"{template}.{part}.j2" for part in _PARTS)
    return subject, text, html


def _check_values(template: str, context: Mapping[str, str]) -> None:
    link = context.get("link")
    if link is not None and not link.startswith(("https://", "http://")):
        raise InvalidTemplateValue(template, "link", "an absolute http(s) URL")
    if template == "join_request_decided":
        decision = context.get("decision")
        if decision is not None and decision not in DECISIONS:
            raise InvalidTemplateValue(
                template, "decision", " or ".join(repr(d) for d in sorted(DECISIONS))
            )


def render(template: str, context: Mapping[str, str]) -> RenderedMessage:
    """Render the email ``template`` with ``context``.

    Raises :class:`UnknownTemplate` for a name not in :data:`TEMPLATE_KEYS`,
    :class:`MissingTemplateKey` when the context lacks a key the template uses,
    :class:`InvalidTemplateValue` for a bad link or decision, and
    :class:`~authgate.mail.errors.InvalidMailHeader` when the subject would span lines.
    """
    if template not in TEMPLATE_KEYS:
        raise UnknownTemplate(template, sorted(TEMPLATE_KEYS))
    _check_values(template, context)
    env = _environment()
    variables = dict(context)
    try:
        subject, text, html = (
            env.get_template(name).render(variables) for name in template_source_names(template)
        )
    except jinja2.UndefinedError as exc:
        # The message names the missing variable only, never a value of the context.
        raise MissingTemplateKey(template, str(exc)) from None
    return RenderedMessage(
        subject=check_header_text("subject", subject.strip()),
        text=text.strip() + "\n",
        html=html.strip() + "\n",
    )
