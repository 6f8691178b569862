"""The vault's credentials and sealed versions on SQL.

Implements :class:`authgate.vault.ports.CredentialRepository` and
:class:`authgate.vault.ports.KeyRotationRepository` (:class:`SqlVaultRepository`); its
``connections`` are in :mod:`authgate.store.vault_connections`. The
organization-wide scope is stored as solution ``''`` so that one unique constraint covers
both scopes on every backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, delete, func, insert, select, union_all, update

from authgate.crypto.envelope import SealedSecret
from authgate.errors import Conflict
from authgate.store.driver import DriverStatement, fetch_row
from authgate.store.session import Database
from authgate.store.tables import (
    vault_connections,
    vault_credentials,
    vault_oauth_states,
    vault_secret_versions,
)
from authgate.store.vault_connections import SqlConnectionRepository, sealed_from
from authgate.vault.models import (
    Credential,
    OAuthClientConfig,
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
_NAMED = (_c.c.org_id == bindparam("org_id")) & (_c.c.name == bindparam("name"))
# Every function call that uses a credential reads it: on the driver path, solution-scoped
# before organization-wide.
_CURRENT_ORG_WIDE = DriverStatement(_CURRENT.where(_NAMED & (_c.c.solution == ORG_WIDE)).limit(1))
_CURRENT_SCOPED = DriverStatement(
    _CURRENT.where(_NAMED & _c.c.solution.in_([bindparam("solution"), ORG_WIDE]))
    .order_by(case((_c.c.solution == ORG_WIDE, 1), else_=0))
    .limit(1)
)


def _current_from(row: Mapping[Any, Any]) -> tuple[Credential, SecretVersion]:
    credential = _credential_from(row)
    sealed = sealed_from(row)
    return credential, SecretVersion(credential.id, credential.version, sealed, row["sealed_at"])


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
        if self._db.driver_path:
            statement = _CURRENT_ORG_WIDE if solution is None else _CURRENT_SCOPED
            values = {"org_id": org_id, "name": name, "solution": solution}
            if solution is None:
                del values["solution"]
            found = await fetch_row(self._db, statement, values)
            return None if found is None else _current_from(found)
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
        return None if row is None else _current_from(row._mapping)

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
                WrappedKeyRow(row.org_id, row.credential_id, row.version, sealed_from(row._mapping))
                for row in rows
            ]
            if len(found) < limit:
                more = (await conn.execute(connections.limit(limit - len(found)))).all()
                found += [
                    WrappedKeyRow(
                        row.org_id,
                        row.credential_id,
                        row.token_version,
                        sealed_from(row._mapping),
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
