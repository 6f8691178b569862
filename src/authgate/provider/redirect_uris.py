"""Which redirect URI an authorization answers to (RFC 6749 §3.1.2, RFC 9700 §4.1.3).

A requested redirect URI must equal a registered one character for character: no
normalisation of case, trailing slashes, percent-encodings or default ports, no extra query
or fragment. One exception (RFC 8252 §7.3): a native app's loopback redirect URI
(``http://127.0.0.1…`` or ``http://[::1]…``) may name any port, everything else still exact.
An answer to a URI that fails these checks would hand the code to whoever chose it, so the
caller shows an error page instead of redirecting.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

from authgate.provider.errors import InvalidRedirect
from authgate.provider.models import ApplicationType, OAuthClient

MAX_URI_CHARS = 2048
_LOOPBACK = re.compile(r"^http://(127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?(/[^#]*)?$")


def _without_port(uri: str) -> str | None:
    """A loopback URI with its port removed; None for any other URI."""
    match = _LOOPBACK.match(uri)
    if match is None:
        return None
    port = match.group(2)
    if port is not None and not 0 < int(port[1:]) < 65536:
        return None
    return f"http://{match.group(1)}{match.group(3) or ''}"


def match_redirect_uri(client: OAuthClient, requested: str | None) -> str:
    """The redirect URI to answer to, or :class:`InvalidRedirect`.

    Without ``redirect_uri`` the client's only registered URI is used (RFC 6749 §3.1.2.3);
    a client with several must name one.
    """
    registered = client.redirect_uris
    if requested is None or requested == "":
        if len(registered) == 1:
            return registered[0]
        raise InvalidRedirect(
            "redirect_uri is required: this client has several registered redirect URIs"
            if registered
            else "this client has no registered redirect URI; an admin must add one"
        )
    if len(requested) > MAX_URI_CHARS or not requested.isprintable():
        raise InvalidRedirect("redirect_uri is not one of the client's registered redirect URIs")
    if requested in registered:
        return requested
    if client.application_type is ApplicationType.NATIVE:
        loopback = _without_port(requested)
        if loopback is not None and any(_without_port(uri) == loopback for uri in registered):
            return requested
    raise InvalidRedirect(
        "redirect_uri is not one of the client's registered redirect URIs (they must match "
        "exactly; only a native app's loopback port may vary)"
    )


def with_query(uri: str, params: list[tuple[str, str]]) -> str:
    """``uri`` with ``params`` added to its query, keeping the query it has (RFC 6749 §3.1.2)."""
    separator = "&" if urlsplit(uri).query else "?"
    return f"{uri}{separator}{urlencode(params)}"
