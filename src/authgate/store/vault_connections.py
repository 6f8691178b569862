"""Users' OAuth connections and pending authorizations on SQL.

Implements :class:`authgate.vault.ports.ConnectionRepository` (reached as
``SqlVaultRepository.connections``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from authgate.crypto.envelope import SealedSecret
from authgate.store.session import Database
from authgate.store.tables import vault_connections, vault_oauth_states
from authgate.vault.models import Connection, ConnectionStatus, PendingAuthorization

_n = vault_connections
_s = vault_oauth_states


def sealed_from(row: Mapping[Any, Any]) -> SealedSecret:
    """The sealed value of a row holding ``ciphertext``, ``wrapped_key`` and ``kek_id``."""
    return SealedSecret(bytes(row["ciphertext"]), bytes(row["wrapped_key"]), row["kek_id"])


def _connection_from(row: Mapping[Any, Any]) -> Connection:
    return Connection(
        id=row["id"],
        org_id=row["org_id"],
        credential_id=row["credential_id"],
        user_id=row["user_id"],
        status=row["status"],
        token_version=row["token_version"],
        sealed=sealed_from(row),
        access_expires_at=row["access_expires_at"],
        scope=row["scope"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _token_values(connection: Connection) -> dict[str, Any]:
    return {
        "status": connection.status,
        "token_version": connection.token_version,
        "ciphertext": connection.sealed.ciphertext,
        "wrapped_key": connection.sealed.wrapped_key,
        "kek_id": connection.sealed.kek_id,
        "access_expires_at": connection.access_expires_at,
        "scope": connection.scope,
        "lease_owner": None,
        "lease_until": None,
        "updated_at": connection.updated_at,
    }


class SqlConnectionRepository:
    """Users' OAuth connections and pending authorizations."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_pending(self, pending: PendingAuthorization) -> None:
        """Record an authorization about to start."""
        async with self._db.unique("this authorization state was already used") as conn:
            await conn.execute(
                insert(_s).values(
                    state_hash=pending.state_hash,
                    org_id=pending.org_id,
                    credential_id=pending.credential_id,
                    user_id=pending.user_id,
                    redirect_uri=pending.redirect_uri,
                    created_at=pending.created_at,
                    expires_at=pending.expires_at,
                )
            )

    async def take_pending(self, state_hash: str, now: datetime) -> PendingAuthorization | None:
        """Delete and return the pending authorization if it has not expired."""
        async with self._db.transaction() as conn:
            row = (
                await conn.execute(select(_s).where(_s.c.state_hash == state_hash))
            ).one_or_none()
            if row is None:
                return None
            # Deleting is the single use: of two concurrent takes, only one deletes the row.
            taken = await conn.execute(delete(_s).where(_s.c.state_hash == state_hash))
            await conn.execute(delete(_s).where(_s.c.expires_at <= now))
        if taken.rowcount != 1 or row.expires_at <= now:
            return None
        return PendingAuthorization(**row._mapping)

    async def get(self, credential_id: str, user_id: str) -> Connection | None:
        """The user's connection for the credential."""
        query = select(_n).where((_n.c.credential_id == credential_id) & (_n.c.user_id == user_id))
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(query)).one_or_none()
        return None if row is None else _connection_from(row._mapping)

    async def list_for_user(self, org_id: str, user_id: str) -> list[Connection]:
        """The user's connections in the organization, oldest first."""
        query = (
            select(_n)
            .where((_n.c.org_id == org_id) & (_n.c.user_id == user_id))
            .order_by(_n.c.created_at, _n.c.id)
        )
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return [_connection_from(row._mapping) for row in rows]

    async def delete(self, credential_id: str, user_id: str) -> bool:
        """Forget the user's tokens for the credential; True when there were some."""
        async with self._db.connection() as conn:
            result = await conn.execute(
                delete(_n).where((_n.c.credential_id == credential_id) & (_n.c.user_id == user_id))
            )
        return result.rowcount == 1

    async def save(self, connection: Connection) -> None:
        """Insert, or replace the tokens of the user's existing connection."""
        async with self._db.transaction() as conn:
            result = await conn.execute(
                update(_n)
                .where(
                    (_n.c.credential_id == connection.credential_id)
                    & (_n.c.user_id == connection.user_id)
                )
                .values(**_token_values(connection))
            )
            if result.rowcount == 0:
                await conn.execute(
                    insert(_n).values(
                        id=connection.id,
                        org_id=connection.org_id,
                        credential_id=connection.credential_id,
                        user_id=connection.user_id,
                        created_at=connection.created_at,
                        **_token_values(connection),
                    )
                )

    async def acquire_lease(
        self, connection_id: str, token_version: int, owner: str, until: datetime, now: datetime
    ) -> bool:
        """Compare-and-set the lease: free or expired, and the tokens unchanged."""
        async with self._db.connection() as conn:
            result = await conn.execute(
                update(_n)
                .where(
                    (_n.c.id == connection_id)
                    & (_n.c.token_version == token_version)
                    & (_n.c.status == ConnectionStatus.ACTIVE)
                    & (_n.c.lease_until.is_(None) | (_n.c.lease_until <= now))
                )
                .values(lease_owner=owner, lease_until=until)
            )
        return result.rowcount == 1

    async def store_refreshed(self, connection: Connection, *, owner: str) -> bool:
        """The refreshed tokens, if ``owner`` still holds the lease."""
        async with self._db.connection() as conn:
            result = await conn.execute(
                update(_n)
                .where(
                    (_n.c.id == connection.id)
                    & (_n.c.lease_owner == owner)
                    & (_n.c.token_version == connection.token_version - 1)
                )
                .values(**_token_values(connection))
            )
        return result.rowcount == 1

    async def release_lease(self, connection_id: str, owner: str) -> None:
        """Give up the lease."""
        async with self._db.connection() as conn:
            await conn.execute(
                update(_n)
                .where((_n.c.id == connection_id) & (_n.c.lease_owner == owner))
                .values(lease_owner=None, lease_until=None)
            )

    async def mark_needs_consent(self, connection_id: str, now: datetime) -> None:
        """The user must consent again; the lease is released."""
        async with self._db.connection() as conn:
            await conn.execute(
                update(_n)
                .where(_n.c.id == connection_id)
                .values(
                    status=ConnectionStatus.NEEDS_CONSENT,
                    lease_owner=None,
                    lease_until=None,
                    updated_at=now,
                )
            )
