"""Building the MIME message, and refusing header injection in recipients, senders, subjects."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.headerregistry import Address
from email.utils import parsedate_to_datetime

import pytest

from authgate.errors import BadRequest
from authgate.mail import InvalidMailHeader, RenderedMessage, build_email, compose
from authgate.mail.headers import check_recipient, parse_sender

SENDER = parse_sender("authgate <no-reply@id.example.com>")
WELCOME = {"org_name": "Acme Corp", "display_name": "Bea User"}
NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)

INJECTIONS = [
    "a@b.c\r\nBcc: x@y.z",
    "a@b.c\nBcc: x@y.z",
    "a@b.c\rBcc: x@y.z",
    "a@b.c\r\n\r\n<html>body</html>",
    "a@b.c\u2028Bcc: x@y.z",
    "a@b.c\x85Bcc: x@y.z",
    "a@b.c\x00",
    "a@b.c\tBcc: x@y.z",
]
NOT_ONE_ADDRESS = [
    "",
    "plainword",
    "a@",
    "@b.c",
    "a@b@c.d",
    "a@b.c, x@y.z",
    "a@b.c; x@y.z",
    "Bob <a@b.c>",
    "a b@c.d",
]


def test_the_message_is_multipart_alternative_with_the_standard_headers() -> None:
    message = build_email("bea@example.net", "welcome", WELCOME, sender=SENDER, clock=lambda: NOW)
    assert message.get_content_type() == "multipart/alternative"
    assert message["From"] == "authgate <no-reply@id.example.com>"
    assert message["To"] == "bea@example.net"
    assert message["Subject"] == "Welcome to Acme Corp on authgate"
    assert parsedate_to_datetime(message["Date"]) == NOW
    assert re.fullmatch(r"<[^@<>\s]+@id\.example\.com>", message["Message-ID"])
    assert message["Auto-Submitted"] == "auto-generated"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]  # the last alternative is the preferred one
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "Hello Bea User," in text.get_content()
    assert "<p>Hello Bea User,</p>" in html.get_content()


def test_message_ids_are_unique() -> None:
    ids = {
        build_email("bea@example.net", "welcome", WELCOME, sender=SENDER)["Message-ID"]
        for _ in range(50)
    }
    assert len(ids) == 50


def test_non_ascii_names_are_encoded_and_survive() -> None:
    context = {"org_name": "Société Générale", "display_name": "Zoë Ørsted"}
    message = build_email("zoe@example.net", "welcome", context, sender=SENDER)
    headers, _, _ = message.as_bytes().partition(b"\r\n\r\n")
    assert headers.isascii()  # RFC 2047 encoded words, not raw UTF-8
    assert b"Subject: Welcome to =?utf-8?" in headers
    assert message["Subject"] == "Welcome to Société Générale on authgate"
    text = message.get_body(("plain",))
    assert text is not None
    assert "Hello Zoë Ørsted," in text.get_content()


@pytest.mark.parametrize("to", INJECTIONS)
def test_a_recipient_with_a_line_break_is_refused(to: str) -> None:
    with pytest.raises(InvalidMailHeader) as caught:
        build_email(to, "welcome", WELCOME, sender=SENDER)
    error = caught.value
    assert isinstance(error, BadRequest)
    assert error.status == 400
    assert error.code == "invalid_mail_header"
    assert "recipient address" in str(error)
    assert "x@y.z" not in str(error)


def test_the_classic_bcc_injection_is_refused_with_a_clear_message() -> None:
    with pytest.raises(InvalidMailHeader, match=r"CR or LF character \(header injection\)"):
        check_recipient("a@b.c\r\nBcc: x@y.z")


@pytest.mark.parametrize("to", NOT_ONE_ADDRESS)
def test_a_recipient_that_is_not_one_bare_address_is_refused(to: str) -> None:
    with pytest.raises(InvalidMailHeader, match="recipient address"):
        check_recipient(to)


@pytest.mark.parametrize("to", ["a@b.c", "first.last+tag@sub.example.org", '"a b"@c.d'])
def test_bare_addresses_are_accepted(to: str) -> None:
    assert check_recipient(to).addr_spec == to


@pytest.mark.parametrize("subject", ["Hi\r\nBcc: x@y.z", "Hi\nthere", "Hi\rthere", "Hi\x00"])
def test_compose_refuses_a_subject_with_a_line_break(subject: str) -> None:
    rendered = RenderedMessage(subject=subject, text="t\n", html="<p>h</p>\n")
    with pytest.raises(InvalidMailHeader, match="subject"):
        compose(rendered, sender=SENDER, to=Address(addr_spec="a@b.c"))


@pytest.mark.parametrize(
    "mail_from",
    [
        "authgate <a@b.c>\r\nBcc: x@y.z",
        "a@b.c\nBcc: x@y.z",
        "a@b.c, x@y.z",
        "no domain",
        "",
        "authgate <nodomain>",
    ],
)
def test_a_bad_sender_is_refused(mail_from: str) -> None:
    with pytest.raises(InvalidMailHeader, match="mail_from"):
        parse_sender(mail_from)


def test_a_named_sender_is_parsed() -> None:
    sender = parse_sender("Acme Identity <id@acme.example>")
    assert (sender.display_name, sender.addr_spec) == ("Acme Identity", "id@acme.example")
