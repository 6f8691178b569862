"""The errors of the mail adapter.

Messages name the template, the header or the SMTP server that was at fault; they never
contain the SMTP password, a link from the context (links carry tokens) or a message body.
"""

from __future__ import annotations

from typing import Any

from authgate.errors import AuthgateError, BadRequest, ServiceUnavailable


class MailTemplateError(AuthgateError, ValueError):
    """A template was asked for by a wrong name or with a wrong context: a bug in the caller."""

    code = "mail_template_error"
    status = 500


class UnknownTemplate(MailTemplateError):
    """No email template has this name."""

    code = "unknown_mail_template"

    def __init__(self, template: str, known: list[str]) -> None:
        super().__init__(
            f"there is no email template named {template!r}; known templates: {', '.join(known)}.",
            details={"template": template},
        )
        self.template = template


class MissingTemplateKey(MailTemplateError):
    """The context lacks a key the template uses."""

    code = "mail_template_key_missing"

    def __init__(self, template: str, reason: str) -> None:
        super().__init__(
            f"the email template {template!r} cannot be rendered: {reason}; "
            "pass every key the template needs in the context.",
            details={"template": template},
        )
        self.template = template


class InvalidTemplateValue(MailTemplateError):
    """A context value is not acceptable (a link that is not http(s), an unknown decision)."""

    code = "mail_template_value_invalid"

    def __init__(self, template: str, key: str, expected: str) -> None:
        super().__init__(
            f"the email template {template!r} got an invalid value for {key!r}: "
            f"expected {expected}.",
            details={"template": template, "key": key},
        )
        self.template = template
        self.key = key


class InvalidMailHeader(BadRequest, ValueError):
    """A recipient, sender or subject is not a single safe header value (CR/LF injection)."""

    code = "invalid_mail_header"

    def __init__(self, header: str, problem: str, **details: Any) -> None:
        super().__init__(
            f"the email {header} {problem}.",
            details={"header": header, **details},
        )
        self.header = header


class MailUnavailable(ServiceUnavailable):
    """The message could not be delivered: the SMTP server or the outbox directory failed."""

    code = "mail_unavailable"
