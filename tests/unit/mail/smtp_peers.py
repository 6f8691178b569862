"""Helpers for tests that talk to a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

SMTP_USER = "mailer@example.org"


@dataclass
class Received:
    """One message as the SMTP server got it, with what the session knew about the client."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    authenticated: bool
    user: str | None
    tls: bool


@dataclass
class Collector:
    """An aiosmtpd handler that keeps every message it accepts."""

    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        message = BytesParser(_class=EmailMessage, policy=policy.default).parsebytes(content)
        user = session.auth_data
        transport = server.transport
        self.received.append(
            Received(
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                message=message,
                authenticated=bool(session.authenticated),
                user=user if isinstance(user, str) else None,
                # session.ssl is set by STARTTLS; an implicit TLS connection shows on the transport.
                tls=session.ssl is not None
                or (transport is not None and transport.get_extra_info("ssl_object") is not None),
            )
        )
        return "250 Message accepted"


@dataclass
class PasswordCheck:
    """An aiosmtpd authenticator accepting one user name and password."""

    user: str
    password: str
    attempts: int = 0

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        self.attempts += 1
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.user.encode()
            and auth_data.password == self.password.encode()
        )
        return AuthResult(success=ok, handled=False, auth_data=self.user if ok else None)


@dataclass
class Server:
    """A running SMTP server."""

    host: str
    port: int
    collector: Collector


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Pki:
    """A private CA and a server certificate for 127.0.0.1 and localhost it signed."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        """What the SMTP server presents."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only the private CA, with hostname checks."""
        return ssl.create_default_context(cafile=str(self.ca_file))
