"""Request methods and headers the egress client puts on the wire (pure; no I/O).

Field names must be tokens and values may not hold CR, LF, NUL or other control characters
(RFC 9110 §5.1 and §5.5), so a parameter value cannot inject a header or a request. The
client frames each message itself, so a caller may not set ``Host``, ``Content-Length``,
``Transfer-Encoding``, ``Connection`` or the other connection-specific fields of RFC 9110
§7.6.1, nor ``Proxy-Authorization``, which belongs to the deployment's proxy.
"""

from __future__ import annotations

from authgate.egress.errors import InvalidUpstreamRequest
from authgate.functions.ports import Headers

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
FRAMING_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
        "te",
        "trailer",
        "upgrade",
        "expect",
    }
)
ALWAYS_SENSITIVE = frozenset({"authorization", "proxy-authorization", "cookie"})
"""Dropped on a cross-origin redirect even when the request does not name them."""

_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_MAX_NAME_LENGTH = 256


def check_method(method: str) -> str:
    """The method if the client sends it (upper-case), else :class:`InvalidUpstreamRequest`."""
    upper = method.upper()
    if upper not in METHODS:
        allowed = ", ".join(sorted(METHODS))
        raise InvalidUpstreamRequest(
            f"the method {method[:20]!r} is not sent; use one of {allowed}"
        )
    return upper


def _value_is_clean(value: str) -> bool:
    # RFC 9110 §5.5: field-vchar, SP and HTAB; anything else below 0x20 and DEL is refused.
    return all(char == "\t" or (char >= " " and char != "\x7f") for char in value)


def check_headers(headers: Headers) -> list[tuple[bytes, bytes]]:
    """The caller's headers encoded for the wire, or :class:`InvalidUpstreamRequest`."""
    checked: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        if not name or len(name) > _MAX_NAME_LENGTH or not set(name) <= _TOKEN:
            raise InvalidUpstreamRequest(
                f"the header name {name[:40]!r} is not a valid field name (RFC 9110 §5.1)"
            )
        if name.lower() in FRAMING_HEADERS:
            raise InvalidUpstreamRequest(
                f"the header {name!r} is set by the client itself and may not be given"
            )
        if not _value_is_clean(value):
            raise InvalidUpstreamRequest(
                f"the value of the header {name!r} holds a control character (CR, LF, NUL or "
                "another); remove it"
            )
        checked.append((name.encode("ascii"), value.strip(" \t").encode("utf-8")))
    return checked


def has_header(headers: list[tuple[bytes, bytes]], name: bytes) -> bool:
    """Whether ``headers`` holds ``name`` (lower-case), in any letter case."""
    return any(key.lower() == name for key, _ in headers)


def without(headers: list[tuple[bytes, bytes]], names: frozenset[str]) -> list[tuple[bytes, bytes]]:
    """``headers`` without those whose lower-case name is in ``names``."""
    return [(key, value) for key, value in headers if key.decode("ascii").lower() not in names]
