"""Which URIs a client may register: redirect URIs by app type, and any URI at all.

RFC 6749 §3.1.2 and RFC 9700 §4.1 for every app, RFC 8252 §7 for native apps. Whether a
requested redirect URI matches a registered one is :mod:`authgate.provider.redirect_uris`'
job; here a URI is refused before it is stored, with the reason and the fix.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from authgate.provider.models import ApplicationType
from authgate.provider.redirect_uris import MAX_URI_CHARS

REFUSED_SCHEMES = frozenset({"javascript", "data", "file", "vbscript", "about", "blob"})
"""Schemes that run or reveal something in the browser instead of reaching the app."""
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
NATIVE_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1"})
"""RFC 8252 §8.3: a native app listens on a loopback address, not on ``localhost``."""

# RFC 3986 §2: the characters a URI may hold; anything else must be percent-encoded.
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_DOT_SEGMENT = re.compile(r"(^|/)(\.|%2e){1,2}(/|$)", re.IGNORECASE)


def redirect_uri_problem(uri: str, application: ApplicationType) -> str | None:
    """Why ``uri`` may not be registered as a redirect URI of an ``application`` app (to
    follow the URI in a message), or None when it may."""
    problem = uri_problem(uri)
    if problem is not None:
        return problem
    scheme = uri.partition(":")[0].lower()
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        return "has a fragment (#...); a redirect URI must not have one (RFC 6749 §3.1.2)"
    if "*" in uri:
        return "has a wildcard (*); register each exact URI instead"
    if _DOT_SEGMENT.search(parts.path):
        return "has '.' or '..' path segments; write the path the browser will reach"
    if scheme == "https":
        return None
    native = application is ApplicationType.NATIVE
    if scheme == "http":
        if parts.hostname in (NATIVE_LOOPBACK_HOSTS if native else LOOPBACK_HOSTS):
            return None
        if native and parts.hostname == "localhost":
            return "uses localhost; a native app listens on 127.0.0.1 or [::1] (RFC 8252 §8.3)"
        where = "127.0.0.1 or [::1] for a native app" if native else "127.0.0.1, [::1], localhost"
        return f"uses http on a host that is not loopback; use https (http only on {where})"
    if not native:
        return "must use https (or http on 127.0.0.1, [::1] or localhost) for a web app"
    if "." not in scheme:
        return (
            "uses a private-use scheme without a dot; use a reverse domain name you control, "
            "e.g. com.example.app:/callback (RFC 8252 §7.1)"
        )
    return None


def uri_problem(uri: str) -> str | None:
    """What makes ``uri`` unusable as any URI a client registers (redirect URI or logo), or
    None."""
    if not uri or len(uri) > MAX_URI_CHARS:
        return f"must be an absolute URI of 1-{MAX_URI_CHARS} characters"
    scheme, colon, _ = uri.partition(":")
    if not colon or not _SCHEME.fullmatch(scheme):
        return "is not absolute: write it with its scheme, e.g. https://app.example.com/callback"
    if scheme.lower() in REFUSED_SCHEMES:
        return f"uses the {scheme.lower()}: scheme, which is never allowed here"
    if not _URI_CHARS.fullmatch(uri) or _BAD_PERCENT.search(uri):
        return (
            "holds characters a URI may not (spaces, control characters, backslashes, "
            "non-ASCII letters or a bad %-escape); percent-encode them"
        )
    try:
        parts = urlsplit(uri)
        host, _ = parts.hostname, parts.port  # reading the port checks it
    except ValueError:
        return "has a malformed host or port"
    if "@" in parts.netloc:
        return "has user information (user@host); remove it"
    if scheme.lower() in ("http", "https") and not host:
        return "has no host"
    return None
