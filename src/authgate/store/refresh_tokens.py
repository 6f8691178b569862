"""Token families and their rotating refresh tokens (stored as keyed hashes)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, or_, select, update

from authgate.identity.models import Role
from authgate.store.driver import DriverStatement, execute, fetch_row
from authgate.store.rotation import (
    ACTIVE_ROLE,
    ROTATE_FOR_CLIENT_PG,
    ROTATE_PG,
    family_from,
    live,
    not_rotated,
    role_from,
    rotate_for_client_sqlite,
    rotate_sqlite,
    token_from,
    token_values,
    with_active_role,
)
from authgate.store.session import Database
from authgate.store.tables import refresh_tokens, token_families
from authgate.store.types import UtcDateTime
from authgate.tokens.models import RefreshToken, Rotation, RotationOutcome, TokenFamily

_DUPLICATE = "this token family or refresh token already exists"

_f = token_families
_rt = refresh_tokens


# Built once: the refresh grant runs it on every request. Labels keep the two tables'
# created_at and expires_at apart, for the SQLAlchemy and the driver path alike.
_FIND_WITH_ROLE = (
    select(
        _rt.c.token_hash,
        _rt.c.family_id,
        _rt.c.created_at.label("token_created_at"),
        _rt.c.expires_at.label("token_expires_at"),
        _rt.c.used_at,
        *_f.c,
        ACTIVE_ROLE,
    )
    .select_from(
        with_active_role(_rt.join(_f, _f.c.id == _rt.c.family_id), _f.c.user_id, _f.c.org_id)
    )
    .where(_rt.c.token_hash == bindparam("token_hash"))
)
_FIND_WITH_ROLE_DRIVER = DriverStatement(_FIND_WITH_ROLE)
_ROTATE_DRIVER = DriverStatement(ROTATE_PG)
_ROTATE_FOR_CLIENT_DRIVER = DriverStatement(ROTATE_FOR_CLIENT_PG)
_INSERT_FAMILY = DriverStatement(insert(_f))
_INSERT_TOKEN = DriverStatement(insert(_rt))
_GET_FAMILY = DriverStatement(select(_f).where(_f.c.id == bindparam("family_id")))


def _create_family_statement() -> Any:
    """PostgreSQL: the family and its first token in one statement (a data-modifying CTE)."""
    created = (
        insert(_f)
        .values({column.name: bindparam(column.name, type_=column.type) for column in _f.c})
        .returning(_f.c.id)
        .cte("created_family")
    )
    names = ["token_hash", "family_id", "created_at", "expires_at", "used_at"]
    row = select(
        bindparam("token_hash", type_=_rt.c.token_hash.type),
        created.c.id,
        bindparam("token_created_at", type_=UtcDateTime()),
        bindparam("token_expires_at", type_=UtcDateTime()),
        bindparam("token_used_at", type_=UtcDateTime()),
    )
    return insert(_rt).from_select(names, row).add_cte(created)


_CREATE_FAMILY_PG = DriverStatement(_create_family_statement())


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _found(row: Mapping[str, Any]) -> tuple[TokenFamily, RefreshToken, Role | None]:
    family = TokenFamily(
        id=row["id"],
        user_id=row["user_id"],
        org_id=row["org_id"],
        client_id=row["client_id"],
        scope=row["scope"],
        created_at=row["created_at"].astimezone(UTC),
        expires_at=row["expires_at"].astimezone(UTC),
        revoked_at=_utc(row["revoked_at"]),
        revoked_reason=row["revoked_reason"],
    )
    token = RefreshToken(
        token_hash=row["token_hash"],
        family_id=row["family_id"],
        created_at=row["token_created_at"].astimezone(UTC),
        expires_at=row["token_expires_at"].astimezone(UTC),
        used_at=_utc(row["used_at"]),
    )
    return family, token, role_from(row["active_role"])


def _family(row: Mapping[str, Any]) -> TokenFamily:
    values = dict(row)
    for name in ("created_at", "expires_at", "revoked_at"):
        values[name] = _utc(values[name])
    return TokenFamily(**values)


def _rotation_params(token_hash: str, successor: RefreshToken, at: datetime) -> dict[str, Any]:
    return {
        "presented_hash": token_hash,
        "at": at,
        "successor_hash": successor.token_hash,
        "successor_created_at": successor.created_at,
        "successor_expires_at": successor.expires_at,
        "successor_used_at": successor.used_at,
    }


def _fast(db: Database) -> bool:
    # Outside a transaction, PostgreSQL statements that are atomic alone take the driver path.
    return db.dialect == "postgresql" and not db.in_transaction


class SqlRefreshTokenRepository:
    """:class:`authgate.tokens.ports.RefreshTokenRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_family(self, family: TokenFamily, first: RefreshToken) -> None:
        """Insert a new family with its first token (which joins this family)."""
        family_values = {column.name: getattr(family, column.name) for column in _f.c}
        token = token_values(first, family.id)
        statements = [(_INSERT_FAMILY, family_values), (_INSERT_TOKEN, token)]
        if self._db.dialect == "postgresql":
            # One statement, atomic alone: every sign-in runs it, so spare the round trips.
            combined = {
                **family_values,
                "token_hash": first.token_hash,
                "token_created_at": first.created_at,
                "token_expires_at": first.expires_at,
                "token_used_at": first.used_at,
            }
            statements = [(_CREATE_FAMILY_PG, combined)]
        if self._db.driver_path:
            await execute(self._db, statements, conflict=_DUPLICATE)
            return
        if self._db.dialect == "postgresql":
            async with self._db.unique(_DUPLICATE, single_statement=True) as conn:
                await conn.execute(_CREATE_FAMILY_PG.statement, combined)
            return
        async with self._db.unique(_DUPLICATE) as conn:
            await conn.execute(insert(_f).values(family_values))
            await conn.execute(insert(_rt).values(token_values(first, family.id)))

    async def find(self, token_hash: str) -> tuple[TokenFamily, RefreshToken] | None:
        """A token and its family, by hash, whatever their state."""
        query = (
            select(_rt, _f)
            .join(_f, _f.c.id == _rt.c.family_id)
            .where(_rt.c.token_hash == token_hash)
        )
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(query)).one_or_none()
        if row is None:
            return None
        return family_from(row._mapping), token_from(row._mapping)

    async def find_with_role(
        self, token_hash: str
    ) -> tuple[TokenFamily, RefreshToken, Role | None] | None:
        """:meth:`find`, plus the role the user holds now in the family's organization
        (None when the user is disabled, not a member, or DENY): one query for a refresh."""
        if self._db.driver_path:
            found = await fetch_row(self._db, _FIND_WITH_ROLE_DRIVER, {"token_hash": token_hash})
        else:
            async with self._db.connection(write=False) as conn:
                row = (await conn.execute(_FIND_WITH_ROLE, {"token_hash": token_hash})).first()
            found = None if row is None else dict(row._mapping)
        return None if found is None else _found(found)

    async def get_family(self, family_id: str) -> TokenFamily | None:
        """By id (``sid``)."""
        if self._db.driver_path:
            found = await fetch_row(self._db, _GET_FAMILY, {"family_id": family_id})
            return None if found is None else _family(found)
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(select(_f).where(_f.c.id == family_id))).one_or_none()
        return None if row is None else family_from(row._mapping)

    async def rotate_for_client(
        self, token_hash: str, client_id: str, successor: RefreshToken, at: datetime
    ) -> Rotation:
        """:meth:`rotate` only for ``client_id``'s token, with the user's current role.

        OTHER_CLIENT (nothing spent or revoked): the token's family was issued to another
        client. ROTATED carries :attr:`Rotation.role`; None means access was withdrawn: the
        token is spent, no successor stored, and the caller ends the session. The successor
        expires no later than the family. On PostgreSQL a rotation is one statement.
        """
        if self._db.dialect == "postgresql":
            params = {
                **_rotation_params(token_hash, successor, at),
                "client_id": client_id,
            }
            if _fast(self._db):
                spent = await fetch_row(self._db, _ROTATE_FOR_CLIENT_DRIVER, params)
            else:
                async with self._db.single_statement() as conn:
                    row = (await conn.execute(ROTATE_FOR_CLIENT_PG, params)).one_or_none()
                spent = None if row is None else dict(row._mapping)
            if spent is not None:
                role = role_from(spent.pop("active_role"))
                return Rotation(RotationOutcome.ROTATED, _family(spent), role)
            async with self._db.connection() as conn:
                return await not_rotated(conn, token_hash, at, client_id)
        async with self._db.connection() as conn:
            rotated = await rotate_for_client_sqlite(conn, token_hash, client_id, successor, at)
            if rotated is not None:
                return Rotation(RotationOutcome.ROTATED, *rotated)
            return await not_rotated(conn, token_hash, at, client_id)

    async def rotate(self, token_hash: str, successor: RefreshToken, at: datetime) -> Rotation:
        """Atomically spend ``token_hash`` and insert ``successor`` into the same family.

        ROTATED: this call spent an unspent, unexpired token of a live family (the
        successor joins that family, whatever its own ``family_id`` says). REUSED: the
        token was already spent; its family is revoked (reason ``reuse``) in the same
        transaction. UNKNOWN (with no family): no such token, the token has expired, or its
        family is revoked or expired. Two concurrent calls with one token never both rotate.
        """
        if self._db.dialect == "postgresql":
            params = _rotation_params(token_hash, successor, at)
            if _fast(self._db):
                spent = await fetch_row(self._db, _ROTATE_DRIVER, params)
            else:
                async with self._db.single_statement() as conn:
                    row = (await conn.execute(ROTATE_PG, params)).one_or_none()
                spent = None if row is None else dict(row._mapping)
            if spent is not None:
                # The CTE's columns carry the family's column names.
                return Rotation(RotationOutcome.ROTATED, _family(spent))
            async with self._db.connection() as conn:
                return await not_rotated(conn, token_hash, at)
        async with self._db.connection() as conn:
            family = await rotate_sqlite(conn, token_hash, successor, at)
            if family is not None:
                return Rotation(RotationOutcome.ROTATED, family)
            return await not_rotated(conn, token_hash, at)

    async def revoke_family(self, family_id: str, reason: str, at: datetime) -> bool:
        """Revoke one family; True when it was live (neither revoked nor expired)."""
        async with self._db.connection() as conn:
            result = await conn.execute(
                update(_f)
                .where(_f.c.id == family_id, *live(at))
                .values(revoked_at=at, revoked_reason=reason)
            )
        return result.rowcount == 1

    async def prune(self, ended_before: datetime) -> int:
        """Delete families that expired or were revoked before ``ended_before``, with their
        tokens; how many families."""
        statement = delete(_f).where(
            or_(_f.c.expires_at < ended_before, _f.c.revoked_at < ended_before)
        )
        async with self._db.connection() as conn:
            result = await conn.execute(statement)
        return int(result.rowcount)

    async def revoke_for_user(
        self,
        user_id: str,
        reason: str,
        at: datetime,
        *,
        org_id: str | None = None,
        except_family: str | None = None,
    ) -> int:
        """Revoke every live family of a user (optionally only in one organization, or
        sparing ``except_family``, e.g. the session that changed the password); how many."""
        statement = update(_f).where(_f.c.user_id == user_id, *live(at))
        if org_id is not None:
            statement = statement.where(_f.c.org_id == org_id)
        if except_family is not None:
            statement = statement.where(_f.c.id != except_family)
        async with self._db.connection() as conn:
            result = await conn.execute(statement.values(revoked_at=at, revoked_reason=reason))
        return int(result.rowcount)
