"""The OAuth 2.0 Device Authorization Grant, server side (RFC 8628).

:meth:`DeviceAuthorizations.start` answers the device authorization request (§3.1, §3.2);
:meth:`decide` records a signed-in person's decision on a user code (§3.3);
:meth:`redeem` answers the device's polls at the token endpoint (§3.4, §3.5) and, once
allowed, starts a session for the person who allowed it, issued to the client that asked.

Nothing here is specific to authgate's device client: the clients that may use the grant
are a predicate, and the session is started through :class:`SessionService`, so a later
OAuth provider can offer the same grant to its registered public clients.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import quote

from authgate.crypto.randomness import new_id, new_secret
from authgate.errors import InvalidClient, InvalidGrant, NoActiveMembership, NotFound
from authgate.identity.deps import Actor, IdentityDeps
from authgate.identity.models import Organization, User
from authgate.identity.signin import Authenticator
from authgate.tokens.device_codes import (
    AccessDenied,
    AuthorizationPending,
    DeviceAuthorization,
    DeviceCodeRepository,
    DeviceCodeStatus,
    ExpiredToken,
    SlowDown,
    new_user_code,
    normalise_user_code,
)
from authgate.tokens.responses import TokenResponse
from authgate.tokens.sessions import SessionService

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_TTL = 600
DEFAULT_INTERVAL = 5
UNKNOWN_CODE = "this code is unknown, expired or already used; start again on the device"


class DeviceClients(Protocol):
    """Which clients may use the grant, and in which organization their sessions are."""

    async def check(self, client_id: str, scope: str | None) -> None:
        """Raise InvalidClient (or InvalidScope) unless the client may ask for ``scope``."""

    async def organization_of(self, client_id: str) -> str | None:
        """The organization a client's sessions must be in; None for any of the person's."""


@dataclass(frozen=True, slots=True)
class DeviceAuthorizationResponse:
    """RFC 8628 §3.2: what the device shows and how it polls."""

    device_code: str
    user_code: str
    verification_uri: str
    expires_in: int
    interval: int

    def as_json(self) -> dict[str, Any]:
        """The JSON body, with ``verification_uri_complete`` (§3.3.1)."""
        return {
            "device_code": self.device_code,
            "user_code": self.user_code,
            "verification_uri": self.verification_uri,
            "verification_uri_complete": (
                f"{self.verification_uri}?user_code={quote(self.user_code)}"
            ),
            "expires_in": self.expires_in,
            "interval": self.interval,
        }


class DeviceAuthorizations:
    """Device authorization requests, decisions and redemption."""

    def __init__(
        self,
        deps: IdentityDeps,
        repository: DeviceCodeRepository,
        sessions: SessionService,
        authenticator: Authenticator,
        *,
        verification_uri: str,
        clients: DeviceClients,
        ttl: int = DEFAULT_TTL,
        interval: int = DEFAULT_INTERVAL,
    ) -> None:
        self._deps = deps
        self._repository = repository
        self._sessions = sessions
        self._authenticator = authenticator
        self._verification_uri = verification_uri
        self._clients = clients
        self._ttl = timedelta(seconds=ttl)
        self._interval = interval

    async def start(self, client_id: str, scope: str | None) -> DeviceAuthorizationResponse:
        """§3.1: a new device code and user code for ``client_id``."""
        if not client_id:
            raise InvalidClient("client_id is required")
        await self._clients.check(client_id, scope)
        device_code, user_code = new_secret(), new_user_code()
        now = self._deps.now()
        # Requests are rare and their rows small: each start clears those long expired.
        await self.prune()
        await self._repository.create(
            DeviceAuthorization(
                id=new_id(),
                device_code_hash=self._device_hash(device_code),
                user_code_hash=self._user_hash(user_code),
                client_id=client_id,
                scope=scope or None,
                status=DeviceCodeStatus.PENDING,
                interval=self._interval,
                created_at=now,
                expires_at=now + self._ttl,
            )
        )
        return DeviceAuthorizationResponse(
            device_code,
            user_code,
            self._verification_uri,
            int(self._ttl.total_seconds()),
            self._interval,
        )

    async def pending(self, user_code: str) -> DeviceAuthorization:
        """The authorization a user code names, while it waits for a decision."""
        found = await self._repository.by_user_code(self._user_hash(user_code))
        if (
            found is None
            or found.status is not DeviceCodeStatus.PENDING
            or found.expires_at <= self._deps.now()
        ):
            raise NotFound(UNKNOWN_CODE)
        return found

    async def required_organization(self, user_code: str) -> str | None:
        """The organization the session of a pending code must be in (a registered app's),
        or None when the person may choose (authgate's device client)."""
        found = await self.pending(user_code)
        return await self._clients.organization_of(found.client_id)

    async def decide(
        self,
        user_code: str,
        user: User,
        org: Organization | None,
        *,
        allow: bool,
        actor: Actor,
    ) -> DeviceAuthorization:
        """§3.3: ``user`` (signed in, with the organization the session will be in) allows
        or denies the device that shows ``user_code``."""
        found = await self.pending(user_code)
        if allow:
            required = await self._clients.organization_of(found.client_id)
            if required is not None and (org is None or org.id != required):
                raise NoActiveMembership(
                    "this app belongs to an organization you are not signed in to; sign in there"
                )
        status = DeviceCodeStatus.APPROVED if allow else DeviceCodeStatus.DENIED
        org_id = org.id if org is not None and allow else None
        if not await self._repository.decide(found.id, status, user.id, org_id, self._deps.now()):
            raise NotFound(UNKNOWN_CODE)
        await self._deps.audit(
            "device.authorized" if allow else "device.denied",
            Actor(user.id, actor.ip),
            org_id=org_id,
            subject=found.id,
            client_id=found.client_id,
        )
        return found

    async def decide_signing_in(
        self,
        user_code: str,
        email: str,
        password: str,
        organization: str | None,
        *,
        allow: bool,
        actor: Actor,
    ) -> Organization | None:
        """The verification page: check the code, sign the person in with their password
        (throttled like any sign-in), then :meth:`decide`. The organization when allowed."""
        # An unknown code fails before any password work.
        found = await self.pending(user_code)
        user = await self._authenticator.authenticate(email, password, actor)
        org = None
        if allow:
            # A registered app serves its own organization; the device client, any.
            required = await self._clients.organization_of(found.client_id)
            org, _ = await self._sessions.organization_for(user, required or organization)
        await self.decide(user_code, user, org, allow=allow, actor=actor)
        return org

    async def redeem(self, device_code: str, client_id: str, actor: Actor) -> TokenResponse:
        """§3.4/§3.5: the tokens once allowed, else the error that tells the device why not."""
        found = await self._repository.by_device_code(self._device_hash(device_code))
        if found is None or found.client_id != client_id:
            raise InvalidGrant("the device code is unknown or was issued to another client")
        now = self._deps.now()
        if found.redeemed_at is not None:
            raise InvalidGrant("the device code was already used; start again")
        if found.expires_at <= now:
            raise ExpiredToken("the device code expired; start the sign-in again")
        if found.status is DeviceCodeStatus.DENIED:
            raise AccessDenied("the sign-in was denied")
        if found.status is DeviceCodeStatus.PENDING:
            previous = await self._repository.polled(found.id, now)
            if previous is not None and (now - previous).total_seconds() < found.interval:
                raise SlowDown(f"poll at most every {found.interval} seconds; add 5 seconds")
            raise AuthorizationPending("waiting for the person to allow this device")
        if not await self._repository.redeem(found.id, now):
            raise InvalidGrant("the device code was already used; start again")
        return await self._session(found, actor)

    async def _session(self, found: DeviceAuthorization, actor: Actor) -> TokenResponse:
        store = self._deps.store
        user = await store.users.get(found.user_id or "")
        org = await store.orgs.get(found.org_id or "")
        membership = (
            None if org is None else await store.memberships.get(org.id, found.user_id or "")
        )
        if user is None or user.disabled or org is None or membership is None:
            raise AccessDenied("the account that allowed this device can no longer sign in")
        if not membership.role.is_active:
            raise AccessDenied("the account that allowed this device can no longer sign in")
        return await self._sessions.start(
            user, org, membership, actor, client_id=found.client_id, scope=found.scope
        )

    async def prune(self) -> int:
        """Forget authorizations that expired a day ago or more."""
        return await self._repository.prune(self._deps.now() - timedelta(days=1))

    def _device_hash(self, device_code: str) -> str:
        return self._deps.keyed.digest("device code\x00" + device_code)

    def _user_hash(self, user_code: str) -> str:
        return self._deps.keyed.digest("user code\x00" + normalise_user_code(user_code))
