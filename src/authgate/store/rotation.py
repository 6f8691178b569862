"""Refresh-token rotation: the hot path of the refresh grant.

On PostgreSQL a successful rotation is one statement (a conditional UPDATE joined with the
family's liveness, feeding the INSERT of the successor) sent without BEGIN/COMMIT; the
refresh grant's variant also checks the client and reads the user's current role in it. On
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
    FromClause,
    Join,
    Label,
    Select,
    and_,
    bindparam,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from authgate.identity.models import Role
from authgate.store.tables import memberships, refresh_tokens, token_families, users
from authgate.store.types import UtcDateTime
from authgate.tokens.models import RefreshToken, Rotation, RotationOutcome, TokenFamily

REUSE_REASON = "reuse"
"""``revoked_reason`` of a family revoked because a spent token was presented again."""

_f = token_families
_rt = refresh_tokens
_UNKNOWN = Rotation(RotationOutcome.UNKNOWN, None)
_OTHER_CLIENT = Rotation(RotationOutcome.OTHER_CLIENT, None)
_SUCCESSOR_COLUMNS = ["token_hash", "family_id", "created_at", "expires_at", "used_at"]

ACTIVE_ROLE: Label[Any] = memberships.c.role.label("active_role")
"""The user's current role in the family's organization, over :func:`with_active_role`."""


def with_active_role(
    source: FromClause, user_id: ColumnElement[str], org_id: ColumnElement[str]
) -> Join:
    """``source`` outer-joined with the user's active membership: :data:`ACTIVE_ROLE` is
    NULL when the user is disabled, not a member of the organization, or DENY."""
    return source.outerjoin(
        users, and_(users.c.id == user_id, users.c.disabled.is_(False))
    ).outerjoin(
        memberships,
        and_(
            memberships.c.org_id == org_id,
            memberships.c.user_id == users.c.id,
            memberships.c.role != Role.DENY.value,
        ),
    )


def role_from(value: str | None) -> Role | None:
    """The :data:`ACTIVE_ROLE` of a row as a :class:`Role` (None: access withdrawn)."""
    return None if value is None else Role(value)


def family_from(row: Mapping[Any, Any]) -> TokenFamily:
    """Build a :class:`TokenFamily` from a row holding the ``token_families`` columns."""
    return TokenFamily(**{column.name: row[column] for column in _f.c})


def token_from(row: Mapping[Any, Any]) -> RefreshToken:
    """Build a :class:`RefreshToken` from a row holding the ``refresh_tokens`` columns."""
    return RefreshToken(**{column.name: row[column] for column in _rt.c})


def live(at: datetime | BindParameter[datetime]) -> list[ColumnElement[bool]]:
    """Conditions of a family that is neither revoked nor expired at ``at``."""
    return [_f.c.revoked_at.is_(None), _f.c.expires_at > at]


def _spend(*conditions: ColumnElement[bool]) -> Any:
    """PostgreSQL: the UPDATE spending the presented token of a live family, as a CTE
    returning the family's columns.

    Its row lock makes a concurrent rotation of the same token re-check ``used_at``, match
    nothing, and so insert nothing.
    """
    at = bindparam("at", type_=UtcDateTime())
    return (
        update(_rt)
        .where(
            _rt.c.token_hash == bindparam("presented_hash", type_=_rt.c.token_hash.type),
            _rt.c.used_at.is_(None),
            _rt.c.expires_at > at,
            _rt.c.family_id == _f.c.id,
            *live(at),
            *conditions,
        )
        .values(used_at=at)
        .returning(*_f.c)
        .cte("spent")
    )


def _rotate_statement() -> Select[Any]:
    """PostgreSQL: spend the token, read its live family and insert the successor at once.

    A data-modifying CTE makes the rotation one round trip and atomic by itself.
    """
    spent = _spend()
    successor = insert(_rt).from_select(
        _SUCCESSOR_COLUMNS,
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


def _rotate_for_client_statement() -> Select[Any]:
    """PostgreSQL: the refresh grant in one statement.

    Spends the token only when its family was issued to ``client_id`` (so another client's
    attempt spends nothing), reads the user's current role beside the family, and inserts
    the successor (expiring no later than the family) only when that role is active.
    """
    spent = _spend(_f.c.client_id == bindparam("client_id", type_=_f.c.client_id.type))
    checked = (
        select(spent, ACTIVE_ROLE)
        .select_from(with_active_role(spent, spent.c.user_id, spent.c.org_id))
        .cte("checked")
    )
    expires_at = func.least(
        bindparam("successor_expires_at", type_=UtcDateTime()), checked.c.expires_at
    )
    successor = insert(_rt).from_select(
        _SUCCESSOR_COLUMNS,
        select(
            bindparam("successor_hash", type_=_rt.c.token_hash.type),
            checked.c.id,
            bindparam("successor_created_at", type_=UtcDateTime()),
            expires_at,
            bindparam("successor_used_at", type_=UtcDateTime()),
        ).where(checked.c.active_role.is_not(None)),
    )
    return select(checked).add_cte(successor.cte("successor"))


ROTATE_FOR_CLIENT_PG = _rotate_for_client_statement()
"""The PostgreSQL refresh rotation; returns the family's columns and ``active_role`` when
it spent the token, else no row."""


async def rotate_sqlite(
    conn: AsyncConnection, token_hash: str, successor: RefreshToken, at: datetime
) -> TokenFamily | None:
    """SQLite: the same steps one by one; the write transaction serialises rotations."""
    family_id = await _spend_sqlite(conn, token_hash, at)
    if family_id is None:
        return None
    row = (await conn.execute(select(_f).where(_f.c.id == family_id))).one()
    await conn.execute(insert(_rt).values(token_values(successor, family_id)))
    return family_from(row._mapping)


async def rotate_for_client_sqlite(
    conn: AsyncConnection, token_hash: str, client_id: str, successor: RefreshToken, at: datetime
) -> tuple[TokenFamily, Role | None] | None:
    """SQLite: :data:`ROTATE_FOR_CLIENT_PG` step by step, inside the write transaction."""
    family_id = await _spend_sqlite(conn, token_hash, at, _f.c.client_id == client_id)
    if family_id is None:
        return None
    query = (
        select(_f, ACTIVE_ROLE)
        .select_from(with_active_role(_f, _f.c.user_id, _f.c.org_id))
        .where(_f.c.id == family_id)
    )
    row = (await conn.execute(query)).one()
    family, role = family_from(row._mapping), role_from(row.active_role)
    if role is not None:
        capped = replace(successor, expires_at=min(successor.expires_at, family.expires_at))
        await conn.execute(insert(_rt).values(token_values(capped, family_id)))
    return family, role


async def _spend_sqlite(
    conn: AsyncConnection, token_hash: str, at: datetime, *conditions: ColumnElement[bool]
) -> str | None:
    # SQLite's RETURNING cannot name a joined table, hence the EXISTS and the extra read.
    live_family = exists().where(_f.c.id == _rt.c.family_id, *live(at), *conditions)
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
    family_id: str | None = (await conn.execute(spend)).scalar_one_or_none()
    return family_id


async def not_rotated(
    conn: AsyncConnection, token_hash: str, at: datetime, client_id: str | None = None
) -> Rotation:
    """Tell a replayed token (REUSED: revoke its family) from an unusable one (UNKNOWN), or,
    when ``client_id`` is given, from another client's token (OTHER_CLIENT: left alone)."""
    query = (
        select(_rt.c.used_at, _rt.c.expires_at.label("token_expires_at"), _f)
        .join(_f, _f.c.id == _rt.c.family_id)
        .where(_rt.c.token_hash == token_hash)
    )
    row = (await conn.execute(query)).one_or_none()
    if row is None:
        return _UNKNOWN
    if client_id is not None and row.client_id != client_id:
        return _OTHER_CLIENT
    # Unspent yet not rotated: the token appeared meanwhile; callers retry or refuse.
    if row.used_at is None or row.token_expires_at <= at:
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
