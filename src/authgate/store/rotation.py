"""Refresh-token rotation: the hot path of the refresh grant.

On PostgreSQL a successful rotation is one statement (a conditional UPDATE joined with the
family's liveness, feeding the INSERT of the successor) sent without BEGIN/COMMIT. On
SQLite the same steps run one by one inside a write transaction.
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

from authgate.store.tables import refresh_tokens, token_families
from authgate.store.types import UtcDateTime
from authgate.tokens.models import RefreshToken, Rotation, RotationOutcome, TokenFamily

REUSE_REASON = "reuse"
"""``revoked_reason`` of a family revoked because a spent token was presented again."""

_f = token_families
_rt = refresh_tokens
_UNKNOWN = Rotation(RotationOutcome.UNKNOWN, None)


def family_from(row: Mapping[Any, Any]) -> TokenFamily:
    """Build a :class:`TokenFamily` from a row holding the ``token_families`` columns."""
    return TokenFamily(**{column.name: row[column] for column in _f.c})


def token_from(row: Mapping[Any, Any]) -> RefreshToken:
    """Build a :class:`RefreshToken` from a row holding the ``refresh_tokens`` columns."""
    return RefreshToken(**{column.name: row[column] for column in _rt.c})


def live(at: datetime | BindParameter[datetime]) -> list[ColumnElement[bool]]:
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
            *live(at),
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


ROTATE_PG = _rotate_statement()
"""The PostgreSQL rotation; returns the family's columns when it rotated, else no row."""


async def rotate_sqlite(
    conn: AsyncConnection, token_hash: str, successor: RefreshToken, at: datetime
) -> TokenFamily | None:
    """SQLite: the same steps one by one; the write transaction serialises rotations."""
    # SQLite's RETURNING cannot name a joined table, hence the EXISTS and the extra read.
    live_family = exists().where(_f.c.id == _rt.c.family_id, *live(at))
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
    await conn.execute(insert(_rt).values(token_values(successor, family_id)))
    return family_from(row._mapping)


async def not_rotated(conn: AsyncConnection, token_hash: str, at: datetime) -> Rotation:
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
    family = family_from(row._mapping)
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
        family = family_from(row._mapping)
    else:
        family = replace(family, revoked_at=at, revoked_reason=REUSE_REASON)
    return Rotation(RotationOutcome.REUSED, family)


def token_values(token: RefreshToken, family_id: str) -> dict[str, Any]:
    """The row of ``token`` as a member of ``family_id``."""
    return {
        "token_hash": token.token_hash,
        "family_id": family_id,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "used_at": token.used_at,
    }
