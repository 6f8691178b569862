"""How the framework adapters answer a refused request, framework-neutral.

The body is ``{"error": code, "message": message}`` (the code is stable, the message says what
to fix). A 401 carries ``WWW-Authenticate`` naming the scheme to use (RFC 9110 §11.6.1,
RFC 5849 §3.5.1 for ``OAuth``); a full nonce store's 503 says when to retry.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from http import HTTPStatus

from authgate.errors import AuthgateError
from authgate.homeserver.errors import InvalidJiveSignature, NonceStoreFull

DEFAULT_REALM = "home server"
DEFAULT_MAX_BODY = 1024 * 1024


@dataclass
class AdapterOptions:
    """What both framework adapters are configured with, besides the verifier."""

    public_origin: str | None = None
    """``scheme://host[:port]`` the gateway called, when a reverse proxy is in front."""
    realm: str = DEFAULT_REALM
    """The realm named in ``WWW-Authenticate`` on a 401."""
    max_body: int = DEFAULT_MAX_BODY
    """The largest body read to verify a request (bytes); larger ones are a 413."""
    exempt_paths: Collection[str] = field(default_factory=frozenset)
    """Paths served without a signature (a health check)."""


def error_body(error: AuthgateError) -> bytes:
    """The JSON body of an error answer."""
    return json.dumps({"error": error.code, "message": error.message}).encode("utf-8")


def _quoted(realm: str) -> str:
    return '"' + realm.replace("\\", "\\\\").replace('"', '\\"') + '"'


def error_headers(error: AuthgateError, realm: str = DEFAULT_REALM) -> list[tuple[str, str]]:
    """The headers of an error answer (besides ``Content-Length``)."""
    headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
    if error.status == 401:
        scheme = "JiveEXTN" if isinstance(error, InvalidJiveSignature) else "OAuth"
        headers.append(("WWW-Authenticate", f"{scheme} realm={_quoted(realm)}"))
    if isinstance(error, NonceStoreFull):
        headers.append(("Retry-After", "1"))
    return headers


def status_line(status: int) -> str:
    """``"401 Unauthorized"``: the WSGI status string."""
    return f"{status} {HTTPStatus(status).phrase}"
