"""Build the MIME message of an email: multipart/alternative, plain text then HTML."""

from __future__ import annotations

from collections.abc import Mapping
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from authgate.clock import Clock, utc_now
from authgate.mail.headers import check_header_text, check_recipient
from authgate.mail.render import RenderedMessage, render


def compose(
    rendered: RenderedMessage,
    *,
    sender: Address,
    to: Address,
    clock: Clock = utc_now,
) -> EmailMessage:
    """Build the message with ``From``, ``To``, ``Subject``, ``Date`` and ``Message-ID``."""
    check_header_text("subject", rendered.subject)
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(clock())
    message["Message-ID"] = make_msgid(domain=sender.domain)
    # RFC 3834: asks auto-responders (out-of-office replies) not to answer.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def build_email(
    to: str,
    template: str,
    context: Mapping[str, str],
    *,
    sender: Address,
    clock: Clock = utc_now,
) -> EmailMessage:
    """Check the recipient, render ``template`` and compose the message (what mailers send)."""
    recipient = check_recipient(to)
    return compose(render(template, context), sender=sender, to=recipient, clock=clock)
