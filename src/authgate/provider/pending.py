"""An authorization request in flight through the sign-in and consent pages.

Rather than a row per page view, the checked request travels sealed (AES-256-GCM under a
key derived from the server's secret) in the pages' forms: nothing to store, and any node
can continue it. The seal binds the request to its purpose and, on the consent page, to the
browser session that saw it, so a form cannot be replayed from another browser; it expires
after ``ttl`` seconds.
"""

from __future__ import annotations

import base64
import binascii

import orjson

from authgate.clock import Clock
from authgate.crypto.sealing import Sealer, SealError
from authgate.provider.authorization import AuthorizationRequest
from authgate.provider.errors import StaleAuthorization

DEFAULT_TTL = 900
MAX_SEALED_CHARS = 8192
STALE = "this sign-in page has expired or was changed; go back to the app and start again"


class PendingRequests:
    """Seals and opens requests in flight."""

    def __init__(self, sealer: Sealer, clock: Clock, *, ttl: int = DEFAULT_TTL) -> None:
        self._sealer = sealer
        self._clock = clock
        self.ttl = ttl

    def seal(self, request: AuthorizationRequest, *, session_id: str | None = None) -> str:
        """The request as a URL-safe string for a form's hidden field."""
        expires = int(self._clock().timestamp()) + self.ttl
        plain = orjson.dumps({"r": request.as_dict(), "e": expires})
        sealed = self._sealer.seal(plain, _context(session_id))
        return base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")

    def open(self, value: str, *, session_id: str | None = None) -> AuthorizationRequest:
        """The request sealed by :meth:`seal` with the same ``session_id``, if unexpired."""
        if not value or len(value) > MAX_SEALED_CHARS or not value.isascii():
            raise StaleAuthorization(STALE)
        try:
            sealed = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            data = orjson.loads(self._sealer.open(sealed, _context(session_id)))
            request = AuthorizationRequest.from_dict(data["r"])
            expires = int(data["e"])
        except (binascii.Error, ValueError, SealError, KeyError, TypeError, orjson.JSONDecodeError):
            raise StaleAuthorization(STALE) from None
        if expires < self._clock().timestamp():
            raise StaleAuthorization(STALE)
        return request


def _context(session_id: str | None) -> bytes:
    return f"authgate:authorize:{session_id or '-'}".encode()
