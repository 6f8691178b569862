"""What the vault needs from outside: storage (implemented in ``store/vault.py``) and a
provider's OAuth token endpoint (implemented with the egress client)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from authgate.crypto.envelope import SealedSecret
from authgate.vault.models import (
    Connection,
    Credential,
    OAuthClientConfig,
    PendingAuthorization,
    SecretVersion,
    TokenGrant,
    WrappedKeyRow,
)


class CredentialRepository(Protocol):
    """Credentials and their sealed versions.

    A credential is unique per (organization, solution scope, name); ``solution=None`` is
    the organization-wide scope.
    """

    async def create(self, credential: Credential, secret: SecretVersion) -> None:
        """Insert the credential and its first version in one transaction;
        :class:`authgate.errors.Conflict` when the name is taken in that scope."""
        ...

    async def replace(
        self,
        credential: Credential,
        secret: SecretVersion,
        *,
        expected_version: int,
        prune_before: datetime,
    ) -> None:
        """In one transaction: store ``secret`` as the new current version and the
        credential's new metadata, provided the current version is still
        ``expected_version`` (else :class:`authgate.errors.Conflict`); mark the previous
        version superseded now; delete versions superseded before ``prune_before``."""
        ...

    async def get(self, org_id: str, name: str, solution: str | None) -> Credential | None:
        """The credential of exactly this scope, or ``None``."""
        ...

    async def list_for_org(self, org_id: str) -> list[Credential]:
        """Every credential of the organization, by name then scope."""
        ...

    async def delete(self, credential_id: str) -> bool:
        """Remove the credential and every version; True when it existed."""
        ...

    async def get_by_id(self, credential_id: str) -> Credential | None:
        """The credential with this id, or ``None``."""
        ...

    async def find_current(
        self, org_id: str, name: str, solution: str | None
    ) -> tuple[Credential, SecretVersion] | None:
        """The credential a call in ``solution`` means by ``name`` (scoped to the solution
        first, then organization-wide) with its current version, read in one statement."""
        ...


class KeyRotationRepository(Protocol):
    """The wrapped data keys, for re-wrapping under a new key-encryption key."""

    async def count_by_kek(self) -> dict[str, int]:
        """How many stored versions each KEK id wraps."""
        ...

    async def wrapped_elsewhere(self, current_kek_id: str, limit: int) -> list[WrappedKeyRow]:
        """Up to ``limit`` versions whose data key is wrapped by another KEK."""
        ...

    async def rewrap(self, row: WrappedKeyRow, sealed: SealedSecret) -> bool:
        """Store the re-wrapped key if the row still holds ``row.sealed``'s wrapped key
        (compare-and-set, committed on its own); False when it changed or is gone."""
        ...


class ConnectionRepository(Protocol):
    """Users' OAuth connections and the pending authorizations that create them."""

    async def add_pending(self, pending: PendingAuthorization) -> None:
        """Record an authorization the user is about to start."""
        ...

    async def take_pending(self, state_hash: str, now: datetime) -> PendingAuthorization | None:
        """The pending authorization, consumed: a second take, or one after expiry, is None."""
        ...

    async def get(self, credential_id: str, user_id: str) -> Connection | None:
        """The user's connection for the credential."""
        ...

    async def list_for_user(self, org_id: str, user_id: str) -> list[Connection]:
        """Every connection of the user in the organization."""
        ...

    async def delete(self, credential_id: str, user_id: str) -> bool:
        """Forget the user's connection for the credential; True when there was one."""
        ...

    async def save(self, connection: Connection) -> None:
        """Insert or replace the user's connection for the credential (clearing any lease)."""
        ...

    async def acquire_lease(
        self, connection_id: str, token_version: int, owner: str, until: datetime, now: datetime
    ) -> bool:
        """Take the refresh lease if the tokens are still ``token_version`` and no unexpired
        lease is held (compare-and-set, across processes); True when taken."""
        ...

    async def store_refreshed(self, connection: Connection, *, owner: str) -> bool:
        """Store refreshed tokens if ``owner`` still holds the lease, releasing it."""
        ...

    async def release_lease(self, connection_id: str, owner: str) -> None:
        """Give up the lease without changing the tokens."""
        ...

    async def mark_needs_consent(self, connection_id: str, now: datetime) -> None:
        """The provider refused the refresh token: the user must consent again."""
        ...


class OAuthTokenClient(Protocol):
    """A provider's token endpoint (RFC 6749 §4.1.3 and §6); implemented with egress."""

    async def exchange_code(
        self,
        client: OAuthClientConfig,
        client_secret: str,
        *,
        code: str,
        redirect_uri: str,
        code_verifier: str | None,
    ) -> TokenGrant:
        """Tokens for an authorization code; :class:`TokenRequestRejected` when refused."""
        ...

    async def refresh(
        self, client: OAuthClientConfig, client_secret: str, *, refresh_token: str
    ) -> TokenGrant:
        """Fresh tokens; :class:`TokenRequestRejected` when the refresh token is refused."""
        ...
