"""The apps gateway: from an incoming request to the re-signed request for a home server.

Two ways in, one way out:

- :meth:`Gateway.from_container` — a registered container signed the request (OAuth 1.0a).
  The signature, timestamp and body hash are verified first; only then is the nonce
  recorded in the shared replay cache. The container says which of its users it acts for
  with the signed ``opensocial_owner_id`` (and optionally ``opensocial_viewer_id``): a user
  id *in that container*, to which the gateway appends the container's registered instance
  id — a container can never claim another instance's users.
- :meth:`Gateway.for_user` — a device presents an authgate access token; authgate is the
  container, the user is the token's subject and the instance is this deployment's.

Both end in :func:`authgate.signedfetch.forwarding.plan_forward`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from authgate.clock import Clock
from authgate.errors import Forbidden
from authgate.identity.deps import IdentityDeps
from authgate.signedfetch.errors import (
    ContainerNotAllowed,
    InvalidOAuthRequest,
    MissingOwner,
    ReplayedNonce,
    UnknownApp,
)
from authgate.signedfetch.forwarding import (
    HOME_SERVER_HEADER,
    ForwardRequest,
    Identity,
    choose_home_server,
    plan_forward,
)
from authgate.signedfetch.lookup import RegistryLookup
from authgate.signedfetch.ports import NonceStore
from authgate.signedfetch.registry import AppKey
from authgate.signedfetch.verify import DEFAULT_WINDOW_SECONDS, check_request, parse_request

# A user id in a container: no '@' (the gateway adds '@<instance>'), no controls or spaces.
_CONTAINER_USER = re.compile(r"^[^\s@\x00-\x1f\x7f]{1,128}$")


@dataclass(frozen=True, slots=True)
class IncomingRequest:
    """What the HTTP layer read of a gateway request."""

    method: str
    url: str
    """The absolute URL as the caller addressed it (what a container signed)."""
    path: str
    """The raw path below ``/v1/gateway/{app}/`` or ``/v1/apps/{app}/fetch/``."""
    query: str
    headers: Sequence[tuple[str, str]]
    body: bytes


class Gateway:
    """Verifies or authenticates an incoming request and plans the forwarded one."""

    def __init__(
        self,
        deps: IdentityDeps,
        lookup: RegistryLookup,
        nonces: NonceStore,
        clock: Clock,
        *,
        instance_id: str,
        window: int = DEFAULT_WINDOW_SECONDS,
    ) -> None:
        self._deps = deps
        self._lookup = lookup
        self._nonces = nonces
        self._clock = clock
        self.instance_id = instance_id
        self._window = window

    async def from_container(self, app_id: str, request: IncomingRequest) -> ForwardRequest:
        """Verify a container's signed request to ``app_id`` and plan its forwarding."""
        app_key = await self._app(app_id)
        headers = _header_map(request.headers)
        parsed = parse_request(request.method, request.url, headers, request.body)
        container = await self._lookup.container(parsed.consumer_key)
        now = self._clock()
        verified = check_request(
            parsed,
            container.credential if container is not None else None,
            now=now,
            window=self._window,
        )
        assert container is not None  # an unknown key never verifies
        if container.container.org_id != app_key.app.org_id:
            raise ContainerNotAllowed(
                f"the container may not call app '{app_id}': it belongs to another organization"
            )
        # Twice the window: a timestamp accepted now may be replayed until it leaves it.
        expires = now + timedelta(seconds=2 * self._window)
        recorded = await self._nonces.record(
            verified.consumer_key, verified.timestamp, verified.nonce, expires
        )
        if not recorded:
            raise ReplayedNonce(
                "this oauth_nonce was already used with this consumer key and timestamp; "
                "sign every request with a fresh nonce"
            )
        owner = _single(verified.parameters, "opensocial_owner_id")
        if owner is None:
            raise MissingOwner(
                "the signed request must carry opensocial_owner_id: the id of the user the "
                "container acts for"
            )
        viewer = _single(verified.parameters, "opensocial_viewer_id") or owner
        identity = Identity(
            _container_user("opensocial_owner_id", owner),
            _container_user("opensocial_viewer_id", viewer),
            container.container.instance_id,
        )
        return self._plan(app_key, identity, request)

    async def for_user(self, app_id: str, user_id: str, request: IncomingRequest) -> ForwardRequest:
        """Plan the forwarding of a signed-in user's request, authgate being the container."""
        app_key = await self._app(app_id)
        role = await self._deps.store.memberships.active_role(app_key.app.org_id, user_id)
        if role is None:
            raise Forbidden(
                f"app '{app_id}' belongs to an organization you are not an active member of"
            )
        return self._plan(app_key, Identity(user_id, user_id, self.instance_id), request)

    async def _app(self, app_id: str) -> AppKey:
        found = await self._lookup.app(app_id)
        if found is None:
            raise UnknownApp(f"no app '{app_id[:128]}' is registered with this gateway")
        return found

    def _plan(
        self, app_key: AppKey, identity: Identity, request: IncomingRequest
    ) -> ForwardRequest:
        requested = next((v for n, v in request.headers if n.lower() == HOME_SERVER_HEADER), None)
        return plan_forward(
            method=request.method,
            base_url=choose_home_server(app_key, requested),
            path=request.path,
            query=request.query,
            headers=request.headers,
            body=request.body,
            identity=identity,
            app_key=app_key,
            now=self._clock(),
        )


def _header_map(headers: Sequence[tuple[str, str]]) -> dict[str, str]:
    # The verifier refuses a repeated Authorization or Content-Type; keep the repetition.
    merged: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        if key in ("authorization", "content-type") and key in merged:
            raise InvalidOAuthRequest(f"the {key} header appears more than once")
        merged[key] = value
    return merged


def _single(parameters: Sequence[tuple[str, str]], name: str) -> str | None:
    values = [v for n, v in parameters if n == name]
    if len(values) > 1:
        raise InvalidOAuthRequest(f"{name} appears more than once; send it once")
    return values[0] if values else None


def _container_user(name: str, value: str) -> str:
    if not _CONTAINER_USER.fullmatch(value):
        raise MissingOwner(
            f"{name} must be the user's id in the container: 1 to 128 characters without "
            "spaces or '@' (the gateway adds '@' and the container's instance id)"
        )
    return value
