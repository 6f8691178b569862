"""Pushed authorization requests (RFC 9126).

The client posts its authorization parameters to the PAR endpoint, authenticated as at the
token endpoint; authgate checks them at once (errors come back as JSON, never as a
redirect), stores them for ``ttl`` seconds and answers a ``request_uri`` to send to the
authorization endpoint. A request URI is bound to its client and works once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from authgate.crypto.randomness import new_secret
from authgate.identity.deps import IdentityDeps
from authgate.provider.authorization import check_request, redirect_target
from authgate.provider.errors import InvalidAuthorizationRequest, InvalidRequestUri
from authgate.provider.models import OAuthClient, PushedRequest
from authgate.provider.ports import PushedRequestRepository

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
DEFAULT_TTL = 60
_NOT_PUSHED = frozenset({"request_uri", "client_secret", "client_assertion"})
UNKNOWN = (
    "request_uri is unknown, expired, already used or another client's; push the request again"
)


class PushedRequests:
    """Stores pushed requests and hands them to the authorization endpoint."""

    def __init__(
        self, deps: IdentityDeps, repository: PushedRequestRepository, *, ttl: int = DEFAULT_TTL
    ) -> None:
        self._deps = deps
        self._repository = repository
        self.ttl = ttl

    async def push(self, client: OAuthClient, params: Mapping[str, str]) -> str:
        """Check and store the parameters; the ``request_uri`` that refers to them."""
        if "request_uri" in params:
            raise InvalidAuthorizationRequest("request_uri cannot be pushed (RFC 9126 §2.1)")
        if params.get("client_id") not in (None, client.client_id):
            raise InvalidAuthorizationRequest("client_id differs from the authenticated client")
        kept = {k: v for k, v in params.items() if k not in _NOT_PUSHED}
        kept["client_id"] = client.client_id
        check_request(client, kept, redirect_target(client, kept))
        secret = new_secret()
        now = self._deps.now()
        await self._repository.add(
            PushedRequest(
                uri_hash=self._digest(secret),
                client_id=client.client_id,
                parameters=kept,
                created_at=now,
                expires_at=now + timedelta(seconds=self.ttl),
            )
        )
        return REQUEST_URI_PREFIX + secret

    async def take(self, client_id: str | None, request_uri: str) -> dict[str, str]:
        """The parameters a request URI stands for (once), if it is this client's."""
        if not request_uri.startswith(REQUEST_URI_PREFIX) or len(request_uri) > 256:
            raise InvalidRequestUri(UNKNOWN)
        pushed = await self._repository.take(
            self._digest(request_uri[len(REQUEST_URI_PREFIX) :]), self._deps.now()
        )
        if pushed is None or pushed.client_id != client_id:
            raise InvalidRequestUri(UNKNOWN)
        return dict(pushed.parameters)

    def _digest(self, secret: str) -> str:
        return self._deps.keyed.digest(f"oauth par\x00{secret}")
