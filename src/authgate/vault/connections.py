"""Per-user OAuth connections: consent (RFC 6749 §4.1 with PKCE S256, RFC 7636 §4), and
access tokens refreshed shortly before expiry (RFC 6749 §6), once per connection.

The authorization's ``state`` is single-use, expires, and is bound to the user and the
credential; only its keyed hash is stored, and the PKCE verifier is derived from it with a
server key, so a database read discloses nothing that completes a flow.

Refresh runs once per connection even with many concurrent calls on many processes: the
caller that wins a compare-and-set lease on the row refreshes; the others wait (an injected
sleep) until the token version changes. A refused refresh token marks the connection
``needs_consent``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authgate.crypto.envelope import Envelope
from authgate.crypto.randomness import new_id, new_secret
from authgate.errors import NotFound
from authgate.identity.deps import Actor, IdentityDeps
from authgate.vault.errors import (
    ConsentRequired,
    CredentialNotUsable,
    InvalidAuthorizationState,
    RefreshInProgress,
    TokenRequestRejected,
)
from authgate.vault.models import (
    Connection,
    ConnectionStatus,
    Credential,
    CredentialKind,
    OAuthClientConfig,
    PendingAuthorization,
    SecretVersion,
    TokenGrant,
)
from authgate.vault.ports import ConnectionRepository, CredentialRepository, OAuthTokenClient
from authgate.vault.sealing import connection_context, credential_context, fields_from
from authgate.vault.validation import check_name, check_solution

Sleep = Callable[[float], Awaitable[None]]

STATE_TTL = timedelta(minutes=10)
REFRESH_EARLY = timedelta(seconds=60)
"""Refresh an access token this long before it expires."""
LEASE = timedelta(seconds=30)
WAIT_STEP = 0.1
WAIT_STEPS = 100


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 §4.2 ``S256``: BASE64URL(SHA256(ASCII(verifier))) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class ConnectionService:
    """Connects users to OAuth providers and hands out their current access tokens."""

    def __init__(
        self,
        deps: IdentityDeps,
        credentials: CredentialRepository,
        connections: ConnectionRepository,
        envelope: Envelope,
        tokens: OAuthTokenClient,
        *,
        sleep: Sleep = asyncio.sleep,
        process_id: str | None = None,
    ) -> None:
        self._deps = deps
        self._credentials = credentials
        self._connections = connections
        self._envelope = envelope
        self._tokens = tokens
        self._sleep = sleep
        self._owner = process_id or new_id()

    # --- consent ----------------------------------------------------------------------

    async def authorize_url(self, credential: Credential, user_id: str, redirect_uri: str) -> str:
        """Where to send the user to consent; the state is good for one callback only."""
        config = _oauth(credential)
        state = new_secret()
        now = self._deps.now()
        await self._connections.add_pending(
            PendingAuthorization(
                state_hash=self._state_hash(state),
                org_id=credential.org_id,
                credential_id=credential.id,
                user_id=user_id,
                redirect_uri=redirect_uri,
                created_at=now,
                expires_at=now + STATE_TTL,
            )
        )
        params: list[tuple[str, str]] = [
            ("response_type", "code"),
            ("client_id", config.client_id),
            ("redirect_uri", redirect_uri),
            ("state", state),
        ]
        if config.scopes:
            params.append(("scope", " ".join(config.scopes)))
        if config.pkce:
            params += [
                ("code_challenge", pkce_challenge(self._verifier(state))),
                ("code_challenge_method", "S256"),
            ]
        params += list(config.extra_authorize_params)
        parts = urlsplit(config.authorize_url)
        query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params])
        await self._deps.audit(
            "connection.authorize",
            Actor(user_id),
            org_id=credential.org_id,
            subject=credential.name,
            credential_id=credential.id,
        )
        return urlunsplit(parts._replace(query=query))

    async def complete(self, state: str, code: str, user_id: str | None = None) -> Connection:
        """Exchange the code of a callback; the state must be unused, fresh, and this
        user's. Without ``user_id`` (a browser callback carries no bearer token) the state
        alone names the user: it is unguessable and was handed to that user only."""
        pending = await self._connections.take_pending(self._state_hash(state), self._deps.now())
        if pending is None or (user_id is not None and pending.user_id != user_id):
            raise InvalidAuthorizationState(
                "this authorization is unknown, already used, expired or another user's; "
                "start again from /v1/connections/{name}/authorize"
            )
        credential = await self._credentials.get_by_id(pending.credential_id)
        if credential is None or credential.org_id != pending.org_id:
            raise InvalidAuthorizationState("the credential of this authorization was deleted")
        config = _oauth(credential)
        grant = await self._tokens.exchange_code(
            config,
            await self._client_secret(credential),
            code=code,
            redirect_uri=pending.redirect_uri,
            code_verifier=self._verifier(state) if config.pkce else None,
        )
        user_id = pending.user_id
        existing = await self._connections.get(credential.id, user_id)
        now = self._deps.now()
        connection = self._sealed(
            credential,
            user_id,
            grant,
            previous_refresh=None,
            version=(existing.token_version + 1) if existing else 1,
            connection_id=existing.id if existing else new_id(),
            created_at=existing.created_at if existing else now,
        )
        await self._connections.save(connection)
        await self._deps.audit(
            "connection.created",
            Actor(user_id),
            org_id=credential.org_id,
            subject=credential.name,
            credential_id=credential.id,
        )
        return connection

    async def abandon(self, state: str) -> None:
        """Spend the state of an authorization the provider ended with an error (the user
        refused, or the request was bad), so that it cannot be completed later."""
        pending = await self._connections.take_pending(self._state_hash(state), self._deps.now())
        if pending is not None:
            await self._deps.audit(
                "connection.refused",
                Actor(pending.user_id),
                org_id=pending.org_id,
                outcome="failure",
                credential_id=pending.credential_id,
            )

    # --- the user's connections -------------------------------------------------------

    async def credential(self, org_id: str, name: str, solution: str | None) -> Credential:
        """The ``oauth_client`` credential a user in ``solution`` means by ``name``
        (solution-scoped first, then organization-wide)."""
        check_name(name)
        found = await self._credentials.find_current(org_id, name, check_solution(solution))
        if found is None:
            where = f"solution '{solution}' or " if solution else ""
            raise NotFound(
                f"no credential '{name[:128]}' in {where}this organization; ask an "
                "administrator which account connections exist (GET /v1/connections lists yours)"
            )
        _oauth(found[0])
        return found[0]

    async def list_for_user(self, org_id: str, user_id: str) -> list[tuple[Credential, Connection]]:
        """The user's connections in the organization with their credentials (metadata)."""
        credentials = {c.id: c for c in await self._credentials.list_for_org(org_id)}
        return [
            (credentials[connection.credential_id], connection)
            for connection in await self._connections.list_for_user(org_id, user_id)
            if connection.credential_id in credentials
        ]

    async def disconnect(self, credential: Credential, user_id: str) -> bool:
        """Forget the user's tokens for the credential; True when there were some."""
        removed = await self._connections.delete(credential.id, user_id)
        if removed:
            await self._deps.audit(
                "connection.deleted",
                Actor(user_id),
                org_id=credential.org_id,
                subject=credential.name,
                credential_id=credential.id,
            )
        return removed

    # --- access tokens ----------------------------------------------------------------

    async def access_token(
        self, credential: Credential, user_id: str, *, rejected: str | None = None
    ) -> str:
        """The user's current access token, refreshed first when it is about to expire
        (or when it is ``rejected``, the token an upstream just refused)."""
        for _ in range(WAIT_STEPS):
            connection = await self._usable(credential, user_id)
            tokens = self._open(connection)
            stale = rejected is not None and tokens["access_token"] == rejected
            if not stale and not self._expiring(connection):
                return tokens["access_token"]
            now = self._deps.now()
            if await self._connections.acquire_lease(
                connection.id, connection.token_version, self._owner, now + LEASE, now
            ):
                return await self._refresh(credential, connection, tokens.get("refresh_token"))
            # Another caller (here or on another node) is refreshing: wait for its result.
            await self._sleep(WAIT_STEP)
        raise RefreshInProgress(
            f"the connection for '{credential.name}' is being refreshed elsewhere; try again"
        )

    async def _refresh(
        self, credential: Credential, connection: Connection, refresh_token: str | None
    ) -> str:
        try:
            if not refresh_token:
                raise TokenRequestRejected("the provider issued no refresh token")
            grant = await self._tokens.refresh(
                _oauth(credential),
                await self._client_secret(credential),
                refresh_token=refresh_token,
            )
        except TokenRequestRejected:
            await self._connections.mark_needs_consent(connection.id, self._deps.now())
            await self._audit_refresh(credential, connection, "failure")
            raise ConsentRequired(credential.name, credential.solution) from None
        except BaseException:
            await self._connections.release_lease(connection.id, self._owner)
            raise
        refreshed = self._sealed(
            credential,
            connection.user_id,
            grant,
            previous_refresh=refresh_token,
            version=connection.token_version + 1,
            connection_id=connection.id,
            created_at=connection.created_at,
        )
        if not await self._connections.store_refreshed(refreshed, owner=self._owner):
            raise RefreshInProgress(f"the refresh lease for '{credential.name}' ran out; try again")
        await self._audit_refresh(credential, connection, "success")
        return grant.access_token

    async def _usable(self, credential: Credential, user_id: str) -> Connection:
        connection = await self._connections.get(credential.id, user_id)
        if connection is None or connection.status is not ConnectionStatus.ACTIVE:
            raise ConsentRequired(credential.name, credential.solution)
        return connection

    def _expiring(self, connection: Connection) -> bool:
        expires = connection.access_expires_at
        return expires is not None and expires - REFRESH_EARLY <= self._deps.now()

    def _sealed(
        self,
        credential: Credential,
        user_id: str,
        grant: TokenGrant,
        *,
        previous_refresh: str | None,
        version: int,
        connection_id: str,
        created_at: datetime,
    ) -> Connection:
        now = self._deps.now()
        # RFC 6749 §6: the provider may keep the refresh token; then the old one stays.
        tokens = {"access_token": grant.access_token}
        refresh = grant.refresh_token or previous_refresh
        if refresh:
            tokens["refresh_token"] = refresh
        context = connection_context(credential.org_id, credential.id, user_id, version)
        sealed = self._envelope.seal(json.dumps(tokens).encode(), context)
        return Connection(
            id=connection_id,
            org_id=credential.org_id,
            credential_id=credential.id,
            user_id=user_id,
            status=ConnectionStatus.ACTIVE,
            token_version=version,
            sealed=sealed,
            access_expires_at=(
                now + timedelta(seconds=grant.expires_in) if grant.expires_in else None
            ),
            scope=grant.scope or " ".join(_oauth(credential).scopes),
            created_at=created_at,
            updated_at=now,
        )

    def _open(self, connection: Connection) -> dict[str, str]:
        context = connection_context(
            connection.org_id,
            connection.credential_id,
            connection.user_id,
            connection.token_version,
        )
        return fields_from(self._envelope.open(connection.sealed, context)).fields

    async def _client_secret(self, credential: Credential) -> str:
        found = await self._credentials.find_current(
            credential.org_id, credential.name, credential.solution
        )
        if found is None or found[0].id != credential.id:
            raise CredentialNotUsable(f"credential '{credential.name}' was deleted or replaced")
        version: SecretVersion = found[1]
        context = credential_context(credential.org_id, credential.id, version.version)
        return fields_from(self._envelope.open(version.sealed, context))["client_secret"]

    def _state_hash(self, state: str) -> str:
        return self._deps.keyed.digest("vault oauth state\x00" + state)

    def _verifier(self, state: str) -> str:
        # 43 characters of base64url: a valid RFC 7636 §4.1 verifier, unguessable without
        # the server key even to someone who saw the state.
        return self._deps.keyed.digest("vault pkce verifier\x00" + state)

    async def _audit_refresh(
        self, credential: Credential, connection: Connection, outcome: str
    ) -> None:
        await self._deps.audit(
            "connection.refreshed",
            Actor(connection.user_id),
            org_id=credential.org_id,
            subject=credential.name,
            outcome=outcome,
            credential_id=credential.id,
        )


def _oauth(credential: Credential) -> OAuthClientConfig:
    if credential.kind is not CredentialKind.OAUTH_CLIENT or credential.oauth is None:
        raise CredentialNotUsable(f"credential '{credential.name}' is not an oauth_client")
    return credential.oauth
