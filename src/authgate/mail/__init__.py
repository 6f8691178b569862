"""The mail adapter: renders authgate's emails and delivers them over SMTP or to a file outbox.

:func:`build_mailer` picks the delivery from the settings: SMTP when ``smtp_host`` is set,
otherwise ``.eml`` files in ``settings.outbox_dir``. Both implement
:class:`authgate.identity.ports.Mailer`.
"""

from __future__ import annotations

from authgate.config import Settings
from authgate.identity.ports import Mailer
from authgate.mail.background import BackgroundMailer
from authgate.mail.errors import (
    InvalidMailHeader,
    InvalidTemplateValue,
    MailTemplateError,
    MailUnavailable,
    MissingTemplateKey,
    UnknownTemplate,
)
from authgate.mail.message import build_email, compose
from authgate.mail.outbox import FileOutboxMailer, OutboxUnavailable, read_outbox
from authgate.mail.render import TEMPLATE_KEYS, RenderedMessage, render
from authgate.mail.smtp import SmtpMailer, SmtpSecurity, SmtpUnavailable

__all__ = [
    "TEMPLATE_KEYS",
    "BackgroundMailer",
    "FileOutboxMailer",
    "InvalidMailHeader",
    "InvalidTemplateValue",
    "MailTemplateError",
    "MailUnavailable",
    "MissingTemplateKey",
    "OutboxUnavailable",
    "RenderedMessage",
    "SmtpMailer",
    "SmtpSecurity",
    "SmtpUnavailable",
    "UnknownTemplate",
    "build_email",
    "build_mailer",
    "compose",
    "read_outbox",
    "render",
]


def build_mailer(settings: Settings) -> Mailer:
    """The mailer the settings ask for: SMTP when ``smtp_host`` is set, else the file outbox.

    Raises :class:`~authgate.errors.ConfigurationError` for inconsistent SMTP settings and
    :class:`InvalidMailHeader` for a ``mail_from`` that is not one address.
    """
    if settings.smtp_host:
        password = settings.smtp_password
        return SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password.get_secret_value() if password is not None else None,
            security=settings.smtp_security,
            sender=settings.mail_from,
        )
    return FileOutboxMailer(settings.outbox_dir, sender=settings.mail_from)
