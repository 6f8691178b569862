"""Registered OAuth clients (third-party apps): their administration and their lookup.

Only OWNER and ADMIN of the organization act on its clients (another organization's admin
gets 404, a MAKER or USER 403); :meth:`ClientRegistry.as_operator` serves
``authgate oauth-client`` on the server's own machine. A confidential client's secret is
shown once, at creation or rotation, and stored as a keyed hash; nothing returned, raised,
logged or audited contains it.

The endpoints read clients on every request, so lookups are cached for ``cache_ttl``
seconds: a change made on this node takes effect here at once, on other nodes within the TTL.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import datetime

from authgate.crypto.randomness import new_secret
from authgate.errors import InvalidClient, NotFound, ValidationFailed
from authgate.identity.access import organization_for_operator, require_admin
from authgate.identity.deps import Actor, IdentityDeps
from authgate.identity.models import Organization
from authgate.provider.client_metadata import ClientMetadata, ClientSpec, check_client
from authgate.provider.models import ClientType, OAuthClient
from authgate.provider.ports import ClientRepository

CLIENT_ID_PREFIX = "app_"
"""Every registered app's client id starts with this."""
INVALID_CLIENT = "client authentication failed"
"""The one message of every failed client authentication."""
CACHE_SECONDS = 5.0
"""How long a node keeps a looked-up client before reading it again (by default)."""
MAX_CACHED = 10_000
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.~-]{1,128}$")


class ClientRegistry:
    """Create, list, show, replace, delete and re-key clients; find and authenticate them."""

    def __init__(
        self,
        deps: IdentityDeps,
        repository: ClientRepository,
        *,
        cache_ttl: float = CACHE_SECONDS,
    ) -> None:
        self._deps = deps
        self._repository = repository
        self._cache_ttl = cache_ttl
        self._cache: dict[str, tuple[float, OAuthClient | None]] = {}

    def as_operator(self) -> ClientRegistry:
        """The same registry for the server's operator (``authgate oauth-client``): every
        method finds the organization by slug alone, without a membership check. It shares
        this registry's cache, so its changes take effect at once in this process."""
        operator = _OperatorClientRegistry(self._deps, self._repository, cache_ttl=self._cache_ttl)
        operator._cache = self._cache
        return operator

    # --- administration ---------------------------------------------------------------

    async def create(
        self, slug: str, spec: ClientSpec, actor: Actor, *, dynamic: bool = False
    ) -> tuple[OAuthClient, str | None]:
        """A new client of the organization, and its secret (None for a public client),
        shown only now. ``dynamic`` marks an RFC 7591 registration: its metadata errors are
        RFC 7591's and it may leave out the name."""
        org = await self._org(slug, actor)
        metadata = check_client(spec, dynamic=dynamic)
        client_id = CLIENT_ID_PREFIX + new_secret(16)
        secret = None if metadata.client_type is ClientType.PUBLIC else new_secret()
        now = self._deps.now()
        client = _build(
            metadata,
            client_id=client_id,
            org_id=org.id,
            secret_hash=self._hash(secret),
            created_at=now,
            updated_at=now,
            dynamic=dynamic,
        )
        await self._repository.create(client)
        self._cache.pop(client_id, None)
        await self._audit("create", actor, client, dynamic="true" if dynamic else "false")
        return client, secret

    async def list(self, slug: str, actor: Actor) -> list[OAuthClient]:
        """The organization's clients, by name."""
        org = await self._org(slug, actor)
        return await self._repository.list_for_org(org.id)

    async def get(self, slug: str, client_id: str, actor: Actor) -> OAuthClient:
        """One client of the organization (NotFound for another organization's)."""
        return await self._owned(slug, client_id, actor)

    async def update(
        self, slug: str, client_id: str, spec: ClientSpec, actor: Actor
    ) -> tuple[OAuthClient, str | None]:
        """Replace the client's metadata; returns it, and a new secret when it became
        confidential (a client that became public loses its secret)."""
        client = await self._owned(slug, client_id, actor)
        metadata = check_client(spec)
        secret = None
        secret_hash = client.secret_hash
        if metadata.client_type is ClientType.PUBLIC:
            secret_hash = None
        elif secret_hash is None:
            secret = new_secret()
            secret_hash = self._hash(secret)
        updated = _build(
            metadata,
            client_id=client_id,
            org_id=client.org_id,
            secret_hash=secret_hash,
            created_at=client.created_at,
            updated_at=self._deps.now(),
            dynamic=client.dynamic,
        )
        await self._repository.update(updated)
        self._cache.pop(client_id, None)
        await self._audit("update", actor, updated)
        return updated, secret

    async def delete(self, slug: str, client_id: str, actor: Actor) -> None:
        """Remove the client, its codes, consents and pending requests, and revoke the
        sessions it was issued."""
        client = await self._owned(slug, client_id, actor)
        await self._repository.delete(client_id)
        self._cache.pop(client_id, None)
        await self._audit("delete", actor, client)

    async def rotate_secret(self, slug: str, client_id: str, actor: Actor) -> str:
        """A new secret for a confidential client; the old one stops working."""
        client = await self._owned(slug, client_id, actor)
        if client.is_public:
            raise ValidationFailed(
                "a public client has no secret; make it confidential (client_type) first"
            )
        secret = new_secret()
        updated = replace(client, secret_hash=self._hash(secret), updated_at=self._deps.now())
        await self._repository.update(updated)
        self._cache.pop(client_id, None)
        await self._audit("rotate", actor, updated)
        return secret

    # --- the endpoints' view ------------------------------------------------------------

    async def find(self, client_id: str) -> OAuthClient | None:
        """An enabled client by id; None when it is unknown or disabled."""
        if not _CLIENT_ID.match(client_id):
            return None
        client = await self._lookup(client_id)
        return None if client is None or client.disabled else client

    async def authenticate(self, client_id: str | None, secret: str | None) -> OAuthClient:
        """The client, if its credentials are right: a confidential client must send its
        secret, a public one none. One :class:`InvalidClient` for every failure."""
        client = await self.find(client_id) if client_id else None
        if client is None or client.is_public:
            # Hash even for unknown ids, so that timing does not tell which ids exist.
            self._deps.keyed.matches(secret or "", "")
            if client is None or secret is not None:
                raise InvalidClient(INVALID_CLIENT)
            return client
        if secret is None or not self._deps.keyed.matches(secret, client.secret_hash or ""):
            raise InvalidClient(INVALID_CLIENT)
        return client

    # --- internals ------------------------------------------------------------------

    def _hash(self, secret: str | None) -> str | None:
        return None if secret is None else self._deps.keyed.digest(secret)

    async def _lookup(self, client_id: str) -> OAuthClient | None:
        now = time.monotonic()
        cached = self._cache.get(client_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        client = await self._repository.get(client_id)
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()
        self._cache[client_id] = (now + self._cache_ttl, client)
        return client

    async def _org(self, slug: str, actor: Actor) -> Organization:
        return (await require_admin(self._deps, slug, actor))[0]

    async def _owned(self, slug: str, client_id: str, actor: Actor) -> OAuthClient:
        org = await self._org(slug, actor)
        client = await self._repository.get(client_id) if _CLIENT_ID.match(client_id) else None
        if client is None or client.org_id != org.id:
            raise NotFound(
                f"no OAuth client '{client_id[:64]}' in this organization; list them with "
                f"GET /v1/orgs/{org.slug}/oauth-clients"
            )
        return client

    async def _audit(self, action: str, actor: Actor, client: OAuthClient, **details: str) -> None:
        # Identifiers and metadata only: the secret and its hash never reach the log.
        await self._deps.audit(
            f"oauth_client.{action}",
            actor,
            org_id=client.org_id,
            subject=client.client_id,
            name=client.name,
            client_type=client.client_type.value,
            **details,
        )


class _OperatorClientRegistry(ClientRegistry):
    """:class:`ClientRegistry` for the operator: no membership stands behind the CLI."""

    async def _org(self, slug: str, actor: Actor) -> Organization:
        return await organization_for_operator(self._deps, slug)


def _build(
    metadata: ClientMetadata,
    *,
    client_id: str,
    org_id: str,
    secret_hash: str | None,
    created_at: datetime,
    updated_at: datetime,
    dynamic: bool,
) -> OAuthClient:
    """The client ``metadata`` describes (a registration without a name is shown by its
    client id)."""
    return OAuthClient(
        client_id=client_id,
        org_id=org_id,
        name=metadata.name or client_id,
        client_type=metadata.client_type,
        application_type=metadata.application_type,
        redirect_uris=metadata.redirect_uris,
        post_logout_redirect_uris=metadata.post_logout_redirect_uris,
        grant_types=metadata.grant_types,
        scopes=metadata.scopes,
        token_endpoint_auth_method=metadata.token_endpoint_auth_method,
        id_token_signed_response_alg=metadata.id_token_signed_response_alg,
        secret_hash=secret_hash,
        logo_uri=metadata.logo_uri,
        created_at=created_at,
        updated_at=updated_at,
        disabled=metadata.disabled,
        dynamic=dynamic,
    )
