"""Token families and their rotating refresh tokens (stored as keyed hashes).

:meth:`SqlRefreshTokenRepository.rotate` is the hot path of the refresh grant: a successful
rotation is one statement on PostgreSQL (a conditional UPDATE joined with the family's
liveness, feeding the INSERT of the successor), sent without BEGIN/COMMIT.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    bindparam,
    exists,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from authgate.store.session import Database
from authgate.store.tables import refresh_tokens, token_families
from authgate.store.types import UtcDateTime
from authgate.tokens.models import RefreshToken, Rotation, RotationOutcome, TokenFamily

REUSE_REASON = "reuse"
"""``revoked_reason`` of a family revoked because a spent token was presented again."""

_DUPLICATE = "this token family or refresh token already exists"

_f = token_families
_rt = refresh_tokens
_UNKNOWN = Rotation(RotationOutcome.UNKNOWN, None)


def _family_from(row: Mapping[Any, Any]) -> TokenFamily:
    return TokenFamily(**{column.name: row[column] for column in _f.c})


def _token_from(row: Mapping[Any, Any]) -> RefreshToken:
    return RefreshToken(**{column.name: row[column] for column in _rt.c})


def _live(at: datetime | BindParameter[datetime]) -> list[ColumnElement[bool]]:
    """Conditions of a family that is neither revoked nor expired at ``at``."""
    return [_f.c.revoked_at.is_(None), _f.c.expires_at > at]


def _rotate_statement() -> Select[Any]:
    """PostgreSQL: spend the token, read its live family and insert the successor at once.

    A data-modifying CTE makes the rotation one round trip and atomic by itself. The row
    lock of the UPDATE makes a concurrent rotation of the same token re-check ``used_at``,
    match nothing, and so insert nothing.
    """
    at = bindparam("at", type_=UtcDateTime())
    spent = (
        update(_rt)
        .where(
            _rt.c.token_hash == bindparam("presented_hash", type_=_rt.c.token_hash.type),
            _rt.c.used_at.is_(None),
            _rt.c.expires_at > at,
            _rt.c.family_id == _f.c.id,
            *_live(at),
        )
        .values(used_at=at)
        .returning(*_f.c)
        .cte("spent")
    )
    successor = insert(_rt).from_select(
        ["token_hash", "family_id", "created_at", "expires_at", "used_at"],
        select(
            bindparam("successor_hash", type_=_rt.c.token_hash.type),
            spent.c.id,
            bindparam("successor_created_at", type_=UtcDateTime()),
            bindparam("successor_expires_at", type_=UtcDateTime()),
            bindparam("successor_used_at", type_=UtcDateTime()),
        ),
    )
    return select(spent).add_cte(successor.cte("successor"))


_ROTATE_PG = _rotate_statement()


async def _rotate_sqlite(
    conn: AsyncConnection, token_hash: str, successor: RefreshToken, at: datetime
) -> TokenFamily | None:
    """SQLite: the same steps one by one; the write transaction serialises rotations."""
    # SQLite's RETURNING cannot name a joined table, hence the EXISTS and the extra read.
    live_family = exists().where(_f.c.id == _rt.c.family_id, *_live(at))
    spend = (
        update(_rt)
        .where(
            _rt.c.token_hash == token_hash,
            _rt.c.used_at.is_(None),
            _rt.c.expires_at > at,
            live_family,
        )
        .values(used_at=at)
        .returning(_rt.c.family_id)
    )
    family_id = (await conn.execute(spend)).scalar_one_or_none()
    if family_id is None:
        return None
    row = (await conn.execute(select(_f).where(_f.c.id == family_id))).one()
    await conn.execute(insert(_rt).values(_token_values(successor, family_id)))
    return _family_from(row._mapping)


async def _not_rotated(conn: AsyncConnection, token_hash: str, at: datetime) -> Rotation:
    """Tell a replayed token (REUSED: revoke its family) from an unusable one (UNKNOWN)."""
    query = (
        select(_rt.c.used_at, _rt.c.expires_at.label("token_expires_at"), _f)
        .join(_f, _f.c.id == _rt.c.family_id)
        .where(_rt.c.token_hash == token_hash)
    )
    row = (await conn.execute(query)).one_or_none()
    # Unspent yet not rotated: the token appeared meanwhile; callers retry or refuse.
    if row is None or row.used_at is None or row.token_expires_at <= at:
        return _UNKNOWN
    family = _family_from(row._mapping)
    if family.is_revoked or family.expires_at <= at:
        return _UNKNOWN
    return await _revoke_for_reuse(conn, family, at)


async def _revoke_for_reuse(conn: AsyncConnection, family: TokenFamily, at: datetime) -> Rotation:
    revoked = (
        await conn.execute(
            update(_f)
            .where(_f.c.id == family.id, _f.c.revoked_at.is_(None))
            .values(revoked_at=at, revoked_reason=REUSE_REASON)
        )
    ).rowcount
    if revoked != 1:
        # Revoked meanwhile (e.g. by a concurrent reuse): report the family as stored.
        row = (await conn.execute(select(_f).where(_f.c.id == family.id))).one()
        family = _family_from(row._mapping)
    else:
        family = replace(family, revoked_at=at, revoked_reason=REUSE_REASON)
    return Rotation(RotationOutcome.REUSED, family)


class SqlRefreshTokenRepository:
    """:class:`authgate.tokens.ports.RefreshTokenRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_family(self, family: TokenFamily, first: RefreshToken) -> None:
        """Insert a new family with its first token (which joins this family)."""
        async with self._db.unique(_DUPLICATE) as conn:
            await conn.execute(
                insert(_f).values({column.name: getattr(family, column.name) for column in _f.c})
            )
            await conn.execute(insert(_rt).values(_token_values(first, family.id)))

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
        return _family_from(row._mapping), _token_from(row._mapping)

    async def get_family(self, family_id: str) -> TokenFamily | None:
        """By id (``sid``)."""
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(select(_f).where(_f.c.id == family_id))).one_or_none()
        return None if row is None else _family_from(row._mapping)

    async def rotate(self, token_hash: str, successor: RefreshToken, at: datetime) -> Rotation:
        """Atomically spend ``token_hash`` and insert ``successor`` into the same family.

        ROTATED: this call spent an unspent, unexpired token of a live family (the
        successor joins that family, whatever its own ``family_id`` says). REUSED: the
        token was already spent; its family is revoked (reason ``reuse``) in the same
        transaction. UNKNOWN (with no family): no such token, the token has expired, or its
        family is revoked or expired. Two concurrent calls with one token never both rotate.
        """
        if self._db.dialect == "postgresql":
            async with self._db.single_statement() as conn:
                params = {
                    "presented_hash": token_hash,
                    "at": at,
                    "successor_hash": successor.token_hash,
                    "successor_created_at": successor.created_at,
                    "successor_expires_at": successor.expires_at,
                    "successor_used_at": successor.used_at,
                }
                row = (await conn.execute(_ROTATE_PG, params)).one_or_none()
            if row is not None:
                # The CTE's columns carry the family's column names.
                return Rotation(RotationOutcome.ROTATED, TokenFamily(**row._mapping))
            async with self._db.connection() as conn:
                return await _not_rotated(conn, token_hash, at)
        async with self._db.connection() as conn:
            family = await _rotate_sqlite(conn, token_hash, successor, at)
            if family is not None:
                return Rotation(RotationOutcome.ROTATED, family)
            return await _not_rotated(conn, token_hash, at)

    async def revoke_family(self, family_id: str, reason: str, at: datetime) -> bool:
        """Revoke one family; True when it was live (neither revoked nor expired)."""
        async with self._db.connection() as conn:
            result = await conn.execute(
                update(_f)
                .where(_f.c.id == family_id, *_live(at))
                .values(revoked_at=at, revoked_reason=reason)
            )
        return result.rowcount == 1

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
        statement = update(_f).where(_f.c.user_id == user_id, *_live(at))
        if org_id is not None:
            statement = statement.where(_f.c.org_id == org_id)
        if except_family is not None:
            statement = statement.where(_f.c.id != except_family)
        async with self._db.connection() as conn:
            result = await conn.execute(statement.values(revoked_at=at, revoked_reason=reason))
        return int(result.rowcount)


def _token_values(token: RefreshToken, family_id: str) -> dict[str, Any]:
    return {
        "token_hash": token.token_hash,
        "family_id": family_id,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "used_at": token.used_at,
    }
