"""The URL of an upstream request: path parameters, the query, and which hosts it may reach.

* ``{name}`` in the path is one path segment (RFC 3986 §3.3), percent-encoded so that a value
  can never add a ``/`` nor be the dot-segment ``.`` or ``..`` (§5.2.4 would remove it).
* The query written in the URL is replaced by the query parameters (arrays repeat the key);
  a continuation's URL is kept as given and its query parameters are appended.
* Only absolute ``http``/``https`` URLs with a host and without user information are sent;
  with a credential on board, only to a host the credential is bound to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from authgate.functions.errors import (
    BasicAuthenticationRefused,
    CredentialHostRefused,
    InvalidFunctionArguments,
    InvalidFunctionRequest,
)

_PATH_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_QUERY_SAFE = "$:@,/!'()*"
_SCHEMES = frozenset({"http", "https"})


def build_url(
    url: str,
    *,
    path: Mapping[str, Any] | None,
    query: Sequence[tuple[str, Any]],
    replace_query: bool,
) -> str:
    """``url`` with ``path`` values in its placeholders (``None``: keep the path as given) and
    ``query`` pairs replacing (``replace_query``) or extending its query. No fragment."""
    check_url(url)
    scheme, netloc, url_path, url_query, _fragment = urlsplit(url)
    if _PATH_PLACEHOLDER.search(netloc):
        raise _invalid_url("path parameters may only appear in the URL's path")
    if path is not None:
        url_path = _PATH_PLACEHOLDER.sub(lambda m: _path_segment(m.group(1), path), url_path)
    encoded = "&".join(
        f"{quote(name, safe=_QUERY_SAFE)}={quote(item, safe=_QUERY_SAFE)}"
        for name, value in query
        for item in _query_values(name, value)
    )
    if replace_query:
        url_query = encoded
    else:
        url_query = "&".join(part for part in (url_query, encoded) if part)
    return urlunsplit((scheme, netloc, url_path, url_query, ""))


def check_url(url: str) -> None:
    """Refuse anything but an absolute http(s) URL with a host and no user information."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises ValueError on a malformed port
    except ValueError:
        raise _invalid_url("it does not parse") from None
    if parts.scheme.lower() not in _SCHEMES or not parts.hostname:
        raise _invalid_url("it must be an absolute http or https URL")
    if parts.username is not None or parts.password is not None:
        raise BasicAuthenticationRefused(
            403,
            "Basic authentication is not allowed through the cloud proxy",
            "the function's URL carries user information; remove it from the URL",
        )


def check_host(url: str, allowed: frozenset[str]) -> None:
    """Refuse ``url`` unless its host is one of ``allowed`` (case, port, final dot ignored)."""
    host = normal_host(urlsplit(url).hostname or "")
    if host not in {normal_host(h) for h in allowed}:
        raise CredentialHostRefused(
            403,
            "A credential of this function is not bound to the request's host",
            f"the request goes to {host!r}; bind the credential to that host, or point the "
            "function at a host the credential is bound to",
        )


def normal_host(host: str) -> str:
    """A host name as credentials are bound to it: lower case, no final dot."""
    return host.lower().rstrip(".")


def scalar_text(name: str, value: Any) -> str:
    """A parameter's value as it goes into a URL or header (JSON spelling of scalars)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    raise InvalidFunctionArguments(
        f"parameter {name!r} must be a string, number or boolean where it is sent"
    )


def _path_segment(name: str, values: Mapping[str, Any]) -> str:
    if name not in values:
        raise _invalid_url(f"the URL names {{{name}}} but no path parameter {name!r} has a value")
    text = scalar_text(name, values[name])
    if text in ("", ".", ".."):
        raise InvalidFunctionArguments(
            f"parameter {name!r} must not be empty, '.' or '..': it is one segment of the path"
        )
    return quote(text, safe="")


def _query_values(name: str, value: Any) -> list[str]:
    if isinstance(value, list):
        return [scalar_text(name, item) for item in value]
    return [scalar_text(name, value)]


def _invalid_url(problem: str) -> InvalidFunctionRequest:
    return InvalidFunctionRequest(
        502, "The function's URL cannot be used", f"the URL is refused: {problem}"
    )
