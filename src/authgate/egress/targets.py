"""Request targets: absolute http(s) URLs, their hosts and origins (pure; no I/O).

URLs are parsed by ``httpx`` (RFC 3986 with IDNA host names); the host it yields is then
classified by :mod:`.addresses`. Origins follow RFC 6454 §4: scheme, host and port, with the
scheme's default port filled in.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from authgate.egress.errors import InvalidUpstreamRequest

SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_URL_LENGTH = 8192


@dataclass(frozen=True, slots=True)
class Origin:
    """Scheme, host (lower-case, no trailing dot) and port of a URL."""

    scheme: str
    host: str
    port: int


def parse_target(url: str) -> httpx.URL:
    """An absolute http(s) URL without user information, fragment dropped.

    Raises :class:`InvalidUpstreamRequest` naming what is wrong (never the whole URL, whose
    query may hold a credential).
    """
    if len(url) > _MAX_URL_LENGTH:
        raise InvalidUpstreamRequest(f"the URL is longer than {_MAX_URL_LENGTH} characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise InvalidUpstreamRequest("the URL is not a valid absolute URL") from None
    return checked_target(parsed)


def checked_target(parsed: httpx.URL) -> httpx.URL:
    """``parsed`` if it is a usable request target (see :func:`parse_target`)."""
    if parsed.scheme not in SCHEMES:
        raise InvalidUpstreamRequest(
            f"the URL's scheme {parsed.scheme[:20]!r} is not sent; use http or https"
        )
    if not parsed.host:
        raise InvalidUpstreamRequest("the URL names no host")
    if parsed.userinfo:
        raise InvalidUpstreamRequest(
            f"the URL for {parsed.host} holds user information; send credentials in a header"
        )
    return parsed.copy_with(fragment=None) if parsed.fragment else parsed


def origin_of(url: httpx.URL) -> Origin:
    """The URL's origin, comparing equal for ``HTTP://Host.`` and ``http://host:80``."""
    return Origin(url.scheme, host_of(url), port_of(url))


def port_of(url: httpx.URL) -> int:
    """The URL's port, or its scheme's default."""
    return url.port if url.port is not None else DEFAULT_PORTS[url.scheme]


def host_of(url: httpx.URL) -> str:
    """The URL's host, lower-case, without brackets or a trailing dot."""
    return url.host.lower().removesuffix(".")
