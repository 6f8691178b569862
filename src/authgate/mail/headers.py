"""Checks of the header values of an email: recipient, sender and subject.

A recipient must be one bare address (``user@example.com``) and a subject one line: a CR or
LF in either would let the caller add headers such as ``Bcc``, so both are refused with
:class:`~authgate.mail.errors.InvalidMailHeader` before any message is built.
"""

from __future__ import annotations

import unicodedata
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address

from authgate.mail.errors import InvalidMailHeader

DEFAULT_SENDER = "authgate <no-reply@localhost>"
"""The ``From`` used when none is configured (the default of ``Settings.mail_from``)."""


def _line_breaking(char: str) -> bool:
    # Cc holds CR, LF, NUL, TAB, NEL and the other controls; Zl and Zp are the Unicode line
    # and paragraph separators, which some mail clients also treat as line ends.
    return unicodedata.category(char) in {"Cc", "Zl", "Zp"}


def check_header_text(header: str, value: str) -> str:
    """Return ``value`` if it is a single line without control characters, else raise."""
    if "\r" in value or "\n" in value:
        raise InvalidMailHeader(header, "contains a CR or LF character (header injection)")
    if any(_line_breaking(char) for char in value):
        raise InvalidMailHeader(header, "contains a control character")
    return value


def check_recipient(to: str) -> Address:
    """Parse ``to`` as exactly one bare address (``user@example.com``), or raise."""
    check_header_text("recipient address", to)
    if not to:
        raise InvalidMailHeader("recipient address", "is empty")
    try:
        address = Address(addr_spec=to)
    except (ValueError, IndexError, HeaderParseError):
        raise InvalidMailHeader(
            "recipient address", "is not a single address of the form user@example.com"
        ) from None
    if not address.username or not address.domain:
        raise InvalidMailHeader(
            "recipient address", "is not a single address of the form user@example.com"
        )
    return address


def parse_sender(mail_from: str) -> Address:
    """Parse the configured sender (``Name <user@example.com>`` or a bare address), or raise."""
    check_header_text("sender (mail_from)", mail_from)
    header = policy.default.header_factory("from", mail_from)
    addresses: tuple[Address, ...] = getattr(header, "addresses", ())
    if header.defects or len(addresses) != 1 or not addresses[0].domain:
        raise InvalidMailHeader(
            "sender (mail_from)",
            "is not one address such as 'authgate <no-reply@example.com>'",
        )
    return addresses[0]
