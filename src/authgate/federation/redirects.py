"""Where a brokered login may hand its one-time code: the app's registered redirect URIs.

A redirect URI matches a registered one exactly, character for character (RFC 9700 §4.1.3):
no normalisation of case, trailing slashes, encodings or default ports, no extra query or
fragment. One exception (RFC 8252 §7.3): for a registered ``http://127.0.0.1/…`` or
``http://[::1]/…`` a native app may use any port, everything else still exact.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

from authgate.federation.errors import InvalidLoginRequest, InvalidRedirectUri
from authgate.federation.urls import MAX_URL_CHARS

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "[::1]"})
_PORT = re.compile(r":[0-9]{1,5}")
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")


def _loopback_form(uri: str) -> str | None:
    """``uri`` with its loopback port removed, or None when it is not an http loopback URI."""
    if not uri.startswith("http://"):
        return None
    rest = uri[len("http://") :]
    authority, slash, path = rest.partition("/")
    for host in LOOPBACK_HOSTS:
        if authority == host:
            return uri
        if authority.startswith(host) and _PORT.fullmatch(authority[len(host) :]):
            port = int(authority[len(host) + 1 :])
            return f"http://{host}{slash}{path}" if 0 < port < 65536 else None
    return None


class AppRedirects:
    """The registered redirect URIs of each client that may use brokered SSO."""

    def __init__(self, registered: Mapping[str, tuple[str, ...]]) -> None:
        self._registered = {client: frozenset(uris) for client, uris in registered.items()}

    def check(self, client_id: str | None, redirect_uri: str | None) -> str:
        """``redirect_uri`` if it is registered for ``client_id``, else InvalidRedirectUri."""
        uris = self._registered.get(client_id or "")
        if uris is None:
            raise InvalidRedirectUri(
                "client_id is not a client that may use single sign-on; use the device client's id"
            )
        if not isinstance(redirect_uri, str) or not redirect_uri:
            raise InvalidRedirectUri("redirect_uri is required (one of the app's registered URIs)")
        if len(redirect_uri) > MAX_URL_CHARS or not redirect_uri.isprintable():
            raise InvalidRedirectUri("redirect_uri is not a registered redirect URI")
        if redirect_uri in uris:
            return redirect_uri
        loopback = _loopback_form(redirect_uri)
        if loopback is not None and loopback in uris and "#" not in redirect_uri:
            return redirect_uri
        raise InvalidRedirectUri(
            "redirect_uri is not one of the app's registered redirect URIs (they must match "
            "exactly; only a loopback port may vary)"
        )


def with_query(uri: str, params: list[tuple[str, str]]) -> str:
    """``uri`` with ``params`` appended to its query (RFC 6749 §4.1.2: keep its own query)."""
    separator = "&" if urlsplit(uri).query else "?"
    return f"{uri}{separator}{urlencode(params)}"


def check_challenge(challenge: str | None, method: str | None) -> str:
    """An RFC 7636 §4.2 S256 challenge; ``plain`` and missing challenges are refused."""
    if method != "S256":
        raise InvalidLoginRequest(
            "code_challenge_method must be S256 (PKCE is required; plain is not accepted)"
        )
    if not isinstance(challenge, str) or not _CHALLENGE.fullmatch(challenge):
        raise InvalidLoginRequest(
            "code_challenge must be BASE64URL(SHA256(code_verifier)): 43 characters"
        )
    return challenge


def is_verifier(value: object) -> bool:
    """Whether ``value`` is an RFC 7636 §4.1 code verifier."""
    return isinstance(value, str) and _VERIFIER.fullmatch(value) is not None
