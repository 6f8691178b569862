"""Deliver email through an SMTP server (aiosmtplib): STARTTLS, implicit TLS, or plain."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from typing import Literal, get_args

import aiosmtplib

from authgate.clock import Clock, utc_now
from authgate.errors import ConfigurationError
from authgate.mail.errors import MailUnavailable
from authgate.mail.headers import DEFAULT_SENDER, parse_sender
from authgate.mail.message import build_email

SmtpSecurity = Literal["starttls", "tls", "none"]
"""``starttls``: upgrade a plain connection (port 587), refusing servers without STARTTLS;
``tls``: TLS from the first byte (port 465); ``none``: no encryption (local relays only)."""

DEFAULT_TIMEOUT = 30.0
"""Seconds one delivery may take, from connecting to the server's last answer."""

_REDACTED = "(hidden)"


class SmtpUnavailable(MailUnavailable):
    """The SMTP server could not be reached, refused us, or did not answer in time."""


class SmtpMailer:
    """A :class:`~authgate.identity.ports.Mailer` that sends each email over SMTP.

    One connection per email: authgate sends few messages (invites, resets), and a fresh
    connection never carries state from an earlier failure. Certificates are verified
    against the system's trust store unless ``tls_context`` says otherwise.
    """

    def __init__(
        self,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        security: SmtpSecurity = "starttls",
        sender: str = DEFAULT_SENDER,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        tls_context: ssl.SSLContext | None = None,
        clock: Clock = utc_now,
    ) -> None:
        if security not in get_args(SmtpSecurity):
            raise ConfigurationError(
                f"smtp_security {security!r} is not one of 'starttls', 'tls' or 'none'."
            )
        if not host:
            raise ConfigurationError("smtp_host is empty; set it to the SMTP server's name.")
        if not 0 < port < 65536:
            raise ConfigurationError(f"smtp_port {port} is not a TCP port (1 to 65535).")
        if (password is None) != (username is None):
            raise ConfigurationError(
                "smtp_username and smtp_password go together: set both, or neither."
            )
        if timeout <= 0:
            raise ConfigurationError("the SMTP timeout must be a positive number of seconds.")
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self.security: SmtpSecurity = security
        self.sender = parse_sender(sender)
        self.timeout = timeout
        self._tls_context = tls_context
        self._clock = clock

    def __repr__(self) -> str:
        """Describe the server, never the password."""
        return (
            f"SmtpMailer(host={self.host!r}, port={self.port}, security={self.security!r}, "
            f"username={self.username!r}, sender={str(self.sender)!r})"
        )

    @property
    def address(self) -> str:
        """``host:port`` of the server, with an IPv6 address in brackets."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    async def send(self, to: str, template: str, context: Mapping[str, str]) -> None:
        """Render ``template`` for ``to`` and deliver it, or raise :class:`SmtpUnavailable`."""
        message = build_email(to, template, context, sender=self.sender, clock=self._clock)
        reason: str | None = None
        try:
            async with asyncio.timeout(self.timeout):
                await aiosmtplib.send(
                    message,
                    sender=self.sender.addr_spec,
                    recipients=[to],
                    hostname=self.host,
                    port=self.port,
                    username=self.username,
                    password=self._password,
                    use_tls=self.security == "tls",
                    start_tls=self.security == "starttls",
                    tls_context=self._tls_context,
                    timeout=self.timeout,
                )
        except (aiosmtplib.SMTPException, OSError) as exc:
            reason = self._reason(exc)
        if reason is not None:
            # Raised outside the ``except`` block so that the error carries no context: the
            # original exception's traceback frames hold the password as a local variable.
            raise SmtpUnavailable(
                f"cannot send email through the SMTP server {self.address} "
                f"({self.security}): {reason}",
                details={"host": self.host, "port": self.port},
            )

    def _reason(self, exc: BaseException) -> str:
        if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
            reason = f"no answer within {self.timeout:g} s"
        elif isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            reason = f"authentication as {self.username!r} refused ({exc.code} {exc.message})"
        elif isinstance(exc, aiosmtplib.SMTPResponseException):
            reason = f"the server answered {exc.code} {exc.message}"
        else:
            detail = str(exc)
            reason = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        if self._password:
            # A server could echo what it was sent; the password must not travel further.
            reason = reason.replace(self._password, _REDACTED)
        return reason
