"""What an IdP URL may be: ``https://``, or ``http://`` on a loopback address only (an IdP on
the same machine, for development), without user info or a fragment, of bounded length.

Explicit endpoints must share the issuer's origin: keys that verify an issuer's tokens must
come from that issuer, or any administrator could configure someone else's issuer with their
own key set and mint identities of its users (metadata discovered from the issuer itself may
name endpoints elsewhere: the issuer vouches for those).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import SplitResult, urlsplit

from authgate.federation.errors import InvalidIdpConfig

MAX_URL_CHARS = 2048
LOOPBACK_NAMES = frozenset({"localhost"})


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_idp_url(url: object, what: str) -> str:
    """``url`` if it is an acceptable IdP URL, else :class:`InvalidIdpConfig` naming ``what``."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_CHARS or not url.isascii():
        raise InvalidIdpConfig(f"{what} must be an absolute URL of at most {MAX_URL_CHARS} ASCII")
    if any(ord(c) <= 32 or ord(c) == 127 for c in url):
        raise InvalidIdpConfig(f"{what} must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        _ = parts.port  # a malformed port raises here
    except ValueError:
        raise InvalidIdpConfig(f"{what} is not a valid URL") from None
    host = (parts.hostname or "").lower()
    if not host or parts.username is not None or parts.password is not None:
        raise InvalidIdpConfig(f"{what} must name a host, without user or password")
    if parts.fragment or "#" in url:
        raise InvalidIdpConfig(f"{what} must not have a fragment")
    if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host)):
        return url
    raise InvalidIdpConfig(
        f"{what} must be an https:// URL (http:// only for an IdP on this machine's loopback)"
    )


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an absolute URL, with the scheme's default port filled in."""
    parts: SplitResult = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


def same_origin(url: str, reference: str) -> bool:
    """Whether two absolute URLs share scheme, host and port."""
    return origin(url) == origin(reference)
