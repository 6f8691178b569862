"""SmtpMailer against a real SMTP server (aiosmtpd on 127.0.0.1): plain, AUTH, STARTTLS, TLS."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime

import pytest

from authgate.errors import ServiceUnavailable
from authgate.mail import InvalidMailHeader, SmtpMailer, SmtpSecurity, SmtpUnavailable

from .smtp_peers import SMTP_USER, PasswordCheck, Pki, Received, Server

CANARY = "canary-pw-7f3c9e1d-do-not-leak"
SENDER = "authgate <no-reply@id.example.com>"
LINK = "https://id.example.com/v1/invites/accept?token=tok_smtp_1"
INVITE = {
    "org_name": "Acme Corp",
    "inviter_name": "Ada Admin",
    "role": "member",
    "link": LINK,
    "expires_at": "2030-01-08 12:00 UTC",
}


def assert_invite_received(received: Received, to: str) -> None:
    assert received.mail_from == "no-reply@id.example.com"
    assert received.rcpt_tos == [to]
    message = received.message
    assert message["From"] == SENDER
    assert message["To"] == to
    assert message["Subject"] == "You're invited to join Acme Corp on authgate"
    assert message["Bcc"] is None
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert message["Message-ID"].endswith("@id.example.com>")
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "Ada Admin invited you to join Acme Corp" in text.get_content()
    assert LINK in text.get_content()
    assert f'href="{LINK}"' in html.get_content()
    assert "Accept the invitation" in html.get_content()


def assert_no_canary(error: BaseException, mailer: SmtpMailer) -> None:
    assert isinstance(error, SmtpUnavailable)
    for shown in (str(error), repr(error), repr(error.details), repr(mailer), str(error.args)):
        assert CANARY not in shown
    assert error.__context__ is None


async def test_send_without_encryption(smtp_server: Callable[..., Server]) -> None:
    server = smtp_server()
    mailer = SmtpMailer(server.host, server.port, security="none", sender=SENDER)
    await mailer.send("bea@example.net", "invite", INVITE)
    [received] = server.collector.received
    assert_invite_received(received, "bea@example.net")
    assert not received.authenticated
    assert not received.tls


async def test_send_with_auth(smtp_server: Callable[..., Server]) -> None:
    check = PasswordCheck(SMTP_USER, CANARY)
    server = smtp_server(authenticator=check, auth_require_tls=False)
    mailer = SmtpMailer(server.host, server.port, SMTP_USER, CANARY, security="none", sender=SENDER)
    await mailer.send("bea@example.net", "invite", INVITE)
    [received] = server.collector.received
    assert received.authenticated
    assert received.user == SMTP_USER
    assert check.attempts == 1
    assert_invite_received(received, "bea@example.net")


async def test_a_wrong_password_is_a_clear_error_without_the_password(
    smtp_server: Callable[..., Server],
) -> None:
    server = smtp_server(
        authenticator=PasswordCheck(SMTP_USER, "the-right-one"), auth_require_tls=False
    )
    mailer = SmtpMailer(server.host, server.port, SMTP_USER, CANARY, security="none")
    with pytest.raises(SmtpUnavailable) as caught:
        await mailer.send("bea@example.net", "invite", INVITE)
    error = caught.value
    assert f"127.0.0.1:{server.port}" in str(error)
    assert "authentication" in str(error)
    assert "535" in str(error)
    assert_no_canary(error, mailer)
    assert server.collector.received == []


async def test_starttls_upgrades_and_verifies_the_certificate(
    smtp_server: Callable[..., Server], pki: Pki
) -> None:
    check = PasswordCheck(SMTP_USER, CANARY)
    server = smtp_server(
        tls_context=pki.server_context(), require_starttls=True, authenticator=check
    )
    mailer = SmtpMailer(
        server.host,
        server.port,
        SMTP_USER,
        CANARY,
        security="starttls",
        sender=SENDER,
        tls_context=pki.client_context(),
    )
    await mailer.send("bea@example.net", "invite", INVITE)
    [received] = server.collector.received
    assert received.tls
    assert received.authenticated
    assert_invite_received(received, "bea@example.net")


async def test_starttls_refuses_a_server_without_starttls(
    smtp_server: Callable[..., Server], pki: Pki
) -> None:
    server = smtp_server()
    mailer = SmtpMailer(
        server.host,
        server.port,
        SMTP_USER,
        CANARY,
        security="starttls",
        tls_context=pki.client_context(),
    )
    with pytest.raises(SmtpUnavailable, match="STARTTLS") as caught:
        await mailer.send("bea@example.net", "invite", INVITE)
    assert f"127.0.0.1:{server.port}" in str(caught.value)
    assert_no_canary(caught.value, mailer)
    assert server.collector.received == []


async def test_starttls_refuses_an_untrusted_certificate(
    smtp_server: Callable[..., Server], pki: Pki
) -> None:
    server = smtp_server(tls_context=pki.server_context(), require_starttls=True)
    # The default context trusts the system's CAs, which did not sign the test certificate.
    mailer = SmtpMailer(server.host, server.port, security="starttls")
    with pytest.raises(SmtpUnavailable, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify"):
        await mailer.send("bea@example.net", "invite", INVITE)
    assert server.collector.received == []


async def test_implicit_tls(smtp_server: Callable[..., Server], pki: Pki) -> None:
    server = smtp_server(ssl_context=pki.server_context())
    mailer = SmtpMailer(
        server.host, server.port, security="tls", sender=SENDER, tls_context=pki.client_context()
    )
    await mailer.send("bea@example.net", "invite", INVITE)
    [received] = server.collector.received
    assert received.tls
    assert_invite_received(received, "bea@example.net")


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound on 127.0.0.1 but not listening: connections are refused, reliably."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
async def test_a_server_that_is_down_is_a_clear_error_without_the_password(
    closed_port: int, security: SmtpSecurity
) -> None:
    mailer = SmtpMailer("127.0.0.1", closed_port, SMTP_USER, CANARY, security=security)
    with pytest.raises(SmtpUnavailable) as caught:
        await mailer.send("bea@example.net", "invite", INVITE)
    error = caught.value
    assert isinstance(error, ServiceUnavailable)
    assert error.code == "mail_unavailable"
    assert error.status == 503
    assert f"SMTP server 127.0.0.1:{closed_port}" in str(error)
    assert error.details == {"host": "127.0.0.1", "port": closed_port}
    assert_no_canary(error, mailer)
    assert error.__cause__ is None
    assert error.__context__ is None  # the aiosmtplib frames, with the password, are gone


async def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # the kernel completes the handshake; nobody ever speaks
        port = silent.getsockname()[1]
        mailer = SmtpMailer("127.0.0.1", port, SMTP_USER, CANARY, security="none", timeout=0.2)
        with pytest.raises(SmtpUnavailable, match=r"no answer within 0\.2 s") as caught:
            await mailer.send("bea@example.net", "invite", INVITE)
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert_no_canary(caught.value, mailer)


async def test_an_injected_recipient_is_refused_before_connecting(closed_port: int) -> None:
    mailer = SmtpMailer("127.0.0.1", closed_port, security="none")
    # InvalidMailHeader, not SmtpUnavailable: the mailer never tried the (closed) port.
    with pytest.raises(InvalidMailHeader, match="header injection"):
        await mailer.send("a@b.c\r\nBcc: x@y.z", "invite", INVITE)


async def test_the_recipient_is_the_only_envelope_recipient(
    smtp_server: Callable[..., Server],
) -> None:
    server = smtp_server()
    mailer = SmtpMailer(server.host, server.port, security="none")
    await mailer.send("first.last+tag@example.net", "invite", INVITE)
    [received] = server.collector.received
    assert received.rcpt_tos == ["first.last+tag@example.net"]


def test_the_repr_names_the_server_but_not_the_password() -> None:
    mailer = SmtpMailer("smtp.example.com", 587, SMTP_USER, CANARY)
    assert "smtp.example.com" in repr(mailer)
    assert CANARY not in repr(mailer)
    assert CANARY not in str(vars(mailer).get("password", ""))
