"""Service clients and the client-credentials grant (RFC 6749 §4.4).

The secret is shown once at creation and stored as a keyed hash. The grant is the hottest
endpoint of a deployment, so clients are cached in memory for a few seconds: a deleted,
disabled or re-keyed client stops working on every node within ``cache_ttl`` seconds.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace

from authgate.crypto.keyed_hash import KeyedHasher
from authgate.crypto.randomness import new_secret
from authgate.errors import InvalidClient, InvalidScope, NotFound, ValidationFailed
from authgate.identity.access import require_admin
from authgate.identity.deps import Actor, IdentityDeps
from authgate.identity.organizations import check_name
from authgate.tokens.access import AccessTokens
from authgate.tokens.models import ServiceClient
from authgate.tokens.ports import ServiceClientRepository
from authgate.tokens.responses import TokenResponse
from authgate.tokens.scopes import format_scope, narrow, parse_scope

CLIENT_ID_PREFIX = "svc_"
INVALID_CLIENT = "client authentication failed"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.~-]{1,128}$")


class ServiceClients:
    """Registry of service clients, and the grant they use."""

    def __init__(
        self,
        deps: IdentityDeps,
        repository: ServiceClientRepository,
        access: AccessTokens,
        *,
        cache_ttl: float = 5.0,
    ) -> None:
        self._deps = deps
        self._repository = repository
        self._access = access
        self._keyed: KeyedHasher = deps.keyed
        self._cache: dict[str, tuple[float, ServiceClient | None]] = {}
        self._cache_ttl = cache_ttl

    async def create(
        self, slug: str, name: str, scopes: str, actor: Actor
    ) -> tuple[ServiceClient, str]:
        """A new client of the organization and its secret (shown only now)."""
        org, _ = await require_admin(self._deps, slug, actor)
        secret = new_secret()
        client = ServiceClient(
            client_id=CLIENT_ID_PREFIX + new_secret(12),
            org_id=org.id,
            name=check_name(name),
            secret_hash=self._keyed.digest(secret),
            scopes=_client_scopes(scopes),
            created_at=self._deps.now(),
        )
        await self._repository.create(client)
        await self._deps.audit("client.create", actor, org_id=org.id, subject=client.client_id)
        return client, secret

    async def list(self, slug: str, actor: Actor) -> list[ServiceClient]:
        """The organization's clients (never their secrets)."""
        org, _ = await require_admin(self._deps, slug, actor)
        return await self._repository.list_for_org(org.id)

    async def rotate_secret(self, slug: str, client_id: str, actor: Actor) -> str:
        """A new secret; the old one stops working."""
        client = await self._owned(slug, client_id, actor)
        secret = new_secret()
        await self._repository.update(replace(client, secret_hash=self._keyed.digest(secret)))
        self._cache.pop(client_id, None)
        await self._deps.audit("client.rotate", actor, org_id=client.org_id, subject=client_id)
        return secret

    async def delete(self, slug: str, client_id: str, actor: Actor) -> None:
        """Remove a client."""
        client = await self._owned(slug, client_id, actor)
        await self._repository.delete(client_id)
        self._cache.pop(client_id, None)
        await self._deps.audit("client.delete", actor, org_id=client.org_id, subject=client_id)

    async def authenticate(self, client_id: str, secret: str) -> ServiceClient:
        """The client, if the secret is right; one error for every failure."""
        if not _CLIENT_ID.match(client_id) or not secret:
            raise InvalidClient(INVALID_CLIENT)
        client = await self._lookup(client_id)
        # Hash even for unknown clients, so timing does not reveal which ids exist.
        matches = self._keyed.matches(secret, client.secret_hash if client else "")
        if client is None or client.disabled or not matches:
            raise InvalidClient(INVALID_CLIENT)
        return client

    async def client_credentials(
        self, client_id: str, secret: str, scope: str | None
    ) -> TokenResponse:
        """RFC 6749 §4.4.3: an access token for the client itself (no refresh token)."""
        client = await self.authenticate(client_id, secret)
        granted = narrow(scope, format_scope(set(client.scopes)))
        token = self._access.issue(
            subject=client.client_id,
            org_id=client.org_id,
            roles=(),
            client_id=client.client_id,
            scope=granted,
            session_id=None,
        )
        return TokenResponse(token, self._access.ttl, granted)

    async def _lookup(self, client_id: str) -> ServiceClient | None:
        now = time.monotonic()
        cached = self._cache.get(client_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        client = await self._repository.get(client_id)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[client_id] = (now + self._cache_ttl, client)
        return client

    async def _owned(self, slug: str, client_id: str, actor: Actor) -> ServiceClient:
        org, _ = await require_admin(self._deps, slug, actor)
        client = await self._repository.get(client_id)
        if client is None or client.org_id != org.id:
            raise NotFound("no such client in this organization")
        return client


def _client_scopes(scopes: str) -> tuple[str, ...]:
    """Scopes of a new client; an admin's mistake is a validation error, not an OAuth one."""
    try:
        return tuple(sorted(parse_scope(scopes)))
    except InvalidScope as exc:
        raise ValidationFailed(f"scopes: {exc.message}") from None
