"""Parsing of OAuth 2.0 form requests and client authentication (RFC 6749 §2.3.1, §3.2).

Shared by the FastAPI routes and the lean ASGI token endpoint, so both parse alike:
``application/x-www-form-urlencoded`` only, no parameter twice, bounded size, and client
credentials either in HTTP Basic or in the body, never both.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote_plus

from authgate.errors import InvalidClient, OAuthError, PayloadTooLarge

MAX_FORM_BYTES = 16 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"


def parse_form(body: bytes, content_type: str | None) -> dict[str, str]:
    """The form's parameters; each at most once (RFC 6749 §3.2)."""
    if len(body) > MAX_FORM_BYTES:
        raise PayloadTooLarge(f"the form must be at most {MAX_FORM_BYTES} bytes")
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != FORM_TYPE:
        raise OAuthError(f"the request body must be {FORM_TYPE}")
    try:
        text = body.decode("utf-8")
        if "%" in text or "+" in text:
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False)
        else:  # nothing to unescape: the common case, split directly (same result)
            pairs = [_pair(part) for part in text.split("&") if part]
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("the form is not valid UTF-8 url-encoded data") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise OAuthError(f"the parameter '{name[:40]}' is given more than once")
        form[name] = value
    return form


def _pair(part: str) -> tuple[str, str]:
    name, _, value = part.partition("=")
    return name, value


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """Who the client says it is, and the secret if it sent one."""

    client_id: str | None
    client_secret: str | None


def client_credentials(form: dict[str, str], authorization: str | None) -> ClientCredentials:
    """Client id and secret from HTTP Basic (form-urlencoded parts) or from the body."""
    in_body = "client_secret" in form
    if authorization:
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            raise InvalidClient("client authentication must use HTTP Basic or the form body")
        if in_body:
            raise OAuthError("send client credentials in one place: Basic or the body, not both")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):  # ValueError: non-ASCII base64 or UTF-8
            raise InvalidClient("the Basic credentials are not valid base64") from None
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise InvalidClient("the Basic credentials must be client_id:client_secret")
        body_id = form.get("client_id")
        basic_id = unquote_plus(client_id)
        if body_id is not None and body_id != basic_id:
            raise InvalidClient("client_id in the body differs from the Basic credentials")
        return ClientCredentials(basic_id, unquote_plus(secret))
    return ClientCredentials(form.get("client_id"), form.get("client_secret"))
