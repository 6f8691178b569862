"""Following a redirect: the next request to send (pure; no I/O).

RFC 9110 §15.4: ``Location`` is resolved against the current URL (§10.2.2); a 303 turns any
method but HEAD into a GET without content (§15.4.4), and so do 301 and 302 for a POST, as
user agents do (§15.4.2, §15.4.3); 307 and 308 repeat the method and content. A hop that
leaves the origin (RFC 6454: scheme, host or port) drops every sensitive header, the ones the
request names and ``Authorization``, ``Proxy-Authorization`` and ``Cookie`` always, and they
stay dropped for the rest of the chain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from authgate.egress.errors import ForbiddenDestination, MalformedUpstreamResponse
from authgate.egress.headers import ALWAYS_SENSITIVE, without
from authgate.egress.targets import SCHEMES, origin_of

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CONTENT_HEADERS = frozenset(
    {"content-type", "content-encoding", "content-language", "content-location", "digest"}
)


@dataclass(frozen=True, slots=True)
class Hop:
    """One request of a redirect chain, ready to send."""

    method: str
    url: httpx.URL
    headers: list[tuple[bytes, bytes]] = field(repr=False)
    body: bytes | None = field(default=None, repr=False)


def _location_text(location: bytes) -> str:
    try:
        return location.decode("utf-8")
    except UnicodeDecodeError:
        return location.decode("latin-1")


def next_hop(current: Hop, status: int, location: bytes, sensitive: frozenset[str]) -> Hop:
    """The request that follows ``current`` after a redirect to ``location``."""
    host = current.url.host
    try:
        target = current.url.join(_location_text(location).strip())
    except (httpx.InvalidURL, ValueError):
        raise MalformedUpstreamResponse(
            f"the upstream {host} redirected to a Location that is not a valid URL"
        ) from None
    if target.scheme not in SCHEMES:
        raise ForbiddenDestination(
            f"the upstream {host} redirected to a {target.scheme[:20]!r} URL; only http and "
            "https redirects are followed"
        )
    if not target.host or target.userinfo:
        raise MalformedUpstreamResponse(
            f"the upstream {host} redirected to a URL without a host or with user information"
        )
    if target.fragment:
        target = target.copy_with(fragment=None)
    method, body, headers = current.method, current.body, current.headers
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method, body = "GET", None
        headers = without(headers, _CONTENT_HEADERS)
    if origin_of(target) != origin_of(current.url):
        headers = without(headers, sensitive | ALWAYS_SENSITIVE)
    return Hop(method=method, url=target, headers=headers, body=body)
