"""The vault's credentials, sealed versions and users' connections on SQL.

Implements :class:`authgate.vault.ports.CredentialRepository` and
:class:`authgate.vault.ports.KeyRotationRepository` (:class:`SqlVaultRepository`), and
:class:`authgate.vault.ports.ConnectionRepository` (its ``connections``). The
organization-wide scope is stored as solution ``''`` so that one unique constraint covers
both scopes on every backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, insert, select, union_all, update

from authgate.crypto.envelope import SealedSecret
from authgate.errors import Conflict
from authgate.store.session import Database
from authgate.store.tables import (
    vault_connections,
    vault_credentials,
    vault_oauth_states,
    vault_secret_versions,
)
from authgate.vault.models import (
    Connection,
    ConnectionStatus,
    Credential,
    OAuthClientConfig,
    PendingAuthorization,
    SecretVersion,
    TokenEndpointAuth,
    WrappedKeyRow,
)

_c = vault_credentials
_v = vault_secret_versions
_n = vault_connections
_s = vault_oauth_states
_TAKEN = "a credential with this name already exists in this scope"
_CHANGED = "the credential was changed by another request meanwhile; send the change again"
ORG_WIDE = ""


def _scope(solution: str | None) -> str:
    return ORG_WIDE if solution is None else solution


def _oauth_to_json(config: OAuthClientConfig | None) -> dict[str, Any] | None:
    if config is None:
        return None
    return {
        "authorize_url": config.authorize_url,
        "token_url": config.token_url,
        "client_id": config.client_id,
        "scopes": list(config.scopes),
        "pkce": config.pkce,
        "extra_authorize_params": [list(pair) for pair in config.extra_authorize_params],
        "token_auth": config.token_auth.value,
    }


def _oauth_from_json(data: Mapping[str, Any] | None) -> OAuthClientConfig | None:
    if data is None:
        return None
    return OAuthClientConfig(
        authorize_url=data["authorize_url"],
        token_url=data["token_url"],
        client_id=data["client_id"],
        scopes=tuple(data["scopes"]),
        pkce=bool(data["pkce"]),
        extra_authorize_params=tuple((k, v) for k, v in data["extra_authorize_params"]),
        # Stored before the setting existed: the RFC 6749 §2.3.1 default.
        token_auth=TokenEndpointAuth(data.get("token_auth", TokenEndpointAuth.CLIENT_SECRET_BASIC)),
    )


def _metadata_values(credential: Credential) -> dict[str, Any]:
    return {
        "kind": credential.kind,
        "allowed_hosts": list(credential.allowed_hosts),
        "device_usable": credential.device_usable,
        "description": credential.description,
        "oauth": _oauth_to_json(credential.oauth),
        "updated_by": credential.updated_by,
        "updated_at": credential.updated_at,
        "version": credential.version,
    }


def _credential_from(row: Mapping[Any, Any]) -> Credential:
    return Credential(
        id=row["id"],
        org_id=row["org_id"],
        name=row["name"],
        kind=row["kind"],
        solution=row["solution"] or None,
        allowed_hosts=tuple(row["allowed_hosts"]),
        device_usable=row["device_usable"],
        description=row["description"],
        oauth=_oauth_from_json(row["oauth"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_by=row["updated_by"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


def _sealed_from(row: Mapping[Any, Any]) -> SealedSecret:
    return SealedSecret(bytes(row["ciphertext"]), bytes(row["wrapped_key"]), row["kek_id"])


def _version_values(secret: SecretVersion) -> dict[str, Any]:
    return {
        "credential_id": secret.credential_id,
        "version": secret.version,
        "ciphertext": secret.sealed.ciphertext,
        "wrapped_key": secret.sealed.wrapped_key,
        "kek_id": secret.sealed.kek_id,
        "created_at": secret.created_at,
        "superseded_at": None,
    }


# The current version joined to its credential: what a call reads, in one statement.
_CURRENT = select(
    _c, _v.c.ciphertext, _v.c.wrapped_key, _v.c.kek_id, _v.c.created_at.label("sealed_at")
).join(_v, (_v.c.credential_id == _c.c.id) & (_v.c.version == _c.c.version))


class SqlVaultRepository:
    """Credentials and the wrapped data keys of their versions."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.connections = SqlConnectionRepository(db)

    async def create(self, credential: Credential, secret: SecretVersion) -> None:
        """Insert the credential and its first version; Conflict when the name is taken."""
        async with self._db.transaction():
            async with self._db.unique(_TAKEN) as conn:
                await conn.execute(
                    insert(_c).values(
                        id=credential.id,
                        org_id=credential.org_id,
                        solution=_scope(credential.solution),
                        name=credential.name,
                        created_by=credential.created_by,
                        created_at=credential.created_at,
                        **_metadata_values(credential),
                    )
                )
            async with self._db.connection() as conn:
                await conn.execute(insert(_v).values(**_version_values(secret)))

    async def replace(
        self,
        credential: Credential,
        secret: SecretVersion,
        *,
        expected_version: int,
        prune_before: datetime,
    ) -> None:
        """Make ``secret`` current if the version is still ``expected_version``."""
        async with self._db.transaction() as conn:
            result = await conn.execute(
                update(_c)
                .where((_c.c.id == credential.id) & (_c.c.version == expected_version))
                .values(**_metadata_values(credential))
            )
            if result.rowcount != 1:
                raise Conflict(_CHANGED)
            await conn.execute(
                update(_v)
                .where((_v.c.credential_id == credential.id) & _v.c.superseded_at.is_(None))
                .values(superseded_at=secret.created_at)
            )
            await conn.execute(insert(_v).values(**_version_values(secret)))
            await conn.execute(
                delete(_v).where(
                    (_v.c.credential_id == credential.id) & (_v.c.superseded_at < prune_before)
                )
            )

    async def get(self, org_id: str, name: str, solution: str | None) -> Credential | None:
        """The credential of exactly this scope."""
        query = select(_c).where(
            (_c.c.org_id == org_id) & (_c.c.name == name) & (_c.c.solution == _scope(solution))
        )
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(query)).one_or_none()
        return None if row is None else _credential_from(row._mapping)

    async def list_for_org(self, org_id: str) -> list[Credential]:
        """The organization's credentials by name, organization-wide before scoped."""
        query = select(_c).where(_c.c.org_id == org_id).order_by(_c.c.name, _c.c.solution)
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return [_credential_from(row._mapping) for row in rows]

    async def delete(self, credential_id: str) -> bool:
        """Remove the credential and every version of it."""
        async with self._db.transaction() as conn:
            await conn.execute(delete(_v).where(_v.c.credential_id == credential_id))
            result = await conn.execute(delete(_c).where(_c.c.id == credential_id))
        return result.rowcount == 1

    async def get_by_id(self, credential_id: str) -> Credential | None:
        """The credential with this id."""
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(select(_c).where(_c.c.id == credential_id))).one_or_none()
        return None if row is None else _credential_from(row._mapping)

    async def find_current(
        self, org_id: str, name: str, solution: str | None
    ) -> tuple[Credential, SecretVersion] | None:
        """Solution-scoped first, then organization-wide; with the current version."""
        scopes = [ORG_WIDE] if solution is None else [solution, ORG_WIDE]
        query = (
            _CURRENT.where(
                (_c.c.org_id == org_id) & (_c.c.name == name) & _c.c.solution.in_(scopes)
            )
            .order_by(case((_c.c.solution == ORG_WIDE, 1), else_=0))
            .limit(1)
        )
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(query)).one_or_none()
        if row is None:
            return None
        mapping = row._mapping
        credential = _credential_from(mapping)
        sealed = _sealed_from(mapping)
        return credential, SecretVersion(
            credential.id, credential.version, sealed, mapping["sealed_at"]
        )

    # --- key rotation -----------------------------------------------------------------

    async def count_by_kek(self) -> dict[str, int]:
        """Stored data keys (secret versions and connections) per KEK id."""
        keks = union_all(select(_v.c.kek_id), select(_n.c.kek_id)).subquery()
        query = select(keks.c.kek_id, func.count()).group_by(keks.c.kek_id)
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return {str(kek_id): int(count) for kek_id, count in rows}

    async def wrapped_elsewhere(self, current_kek_id: str, limit: int) -> list[WrappedKeyRow]:
        """Up to ``limit`` data keys wrapped by another KEK: secret versions first."""
        versions = (
            select(_v, _c.c.org_id)
            .join(_c, _c.c.id == _v.c.credential_id)
            .where(_v.c.kek_id != current_kek_id)
            .order_by(_v.c.credential_id, _v.c.version)
            .limit(limit)
        )
        connections = select(_n).where(_n.c.kek_id != current_kek_id).order_by(_n.c.id).limit(limit)
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(versions)).all()
            found = [
                WrappedKeyRow(
                    row.org_id, row.credential_id, row.version, _sealed_from(row._mapping)
                )
                for row in rows
            ]
            if len(found) < limit:
                more = (await conn.execute(connections.limit(limit - len(found)))).all()
                found += [
                    WrappedKeyRow(
                        row.org_id,
                        row.credential_id,
                        row.token_version,
                        _sealed_from(row._mapping),
                        user_id=row.user_id,
                    )
                    for row in more
                ]
        return found

    async def rewrap(self, row: WrappedKeyRow, sealed: SealedSecret) -> bool:
        """Compare-and-set the wrapped key of one row, in its own transaction."""
        if row.user_id is None:
            statement = update(_v).where(
                (_v.c.credential_id == row.credential_id)
                & (_v.c.version == row.version)
                & (_v.c.kek_id == row.sealed.kek_id)
                & (_v.c.wrapped_key == row.sealed.wrapped_key)
            )
        else:
            statement = update(_n).where(
                (_n.c.credential_id == row.credential_id)
                & (_n.c.user_id == row.user_id)
                & (_n.c.token_version == row.version)
                & (_n.c.kek_id == row.sealed.kek_id)
                & (_n.c.wrapped_key == row.sealed.wrapped_key)
            )
        async with self._db.connection() as conn:
            result = await conn.execute(
                statement.values(wrapped_key=sealed.wrapped_key, kek_id=sealed.kek_id)
            )
        return result.rowcount == 1


def _connection_from(row: Mapping[Any, Any]) -> Connection:
    return Connection(
        id=row["id"],
        org_id=row["org_id"],
        credential_id=row["credential_id"],
        user_id=row["user_id"],
        status=row["status"],
        token_version=row["token_version"],
        sealed=_sealed_from(row),
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
