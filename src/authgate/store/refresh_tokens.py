"""Token families and their rotating refresh tokens (stored as keyed hashes).

:meth:`SqlRefreshTokenRepository.rotate` is the hot path of the refresh grant: a successful
rotation is one conditional UPDATE (joined with the family's liveness) and one INSERT.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from authgate.store.session import Database
from authgate.store.tables import refresh_tokens, token_families
from authgate.tokens.models import RefreshToken, Rotation, RotationOutcome, TokenFamily

REUSE_REASON = "reuse"
"""``revoked_reason`` of a family revoked because a spent token was presented again."""

_DUPLICATE = "this token family or refresh token already exists"

f = token_families
rt = refresh_tokens
_UNKNOWN = Rotation(RotationOutcome.UNKNOWN, None)


def _family_from(row: Mapping[Any, Any]) -> TokenFamily:
    return TokenFamily(**{column.name: row[column] for column in f.c})


def _token_from(row: Mapping[Any, Any]) -> RefreshToken:
    return RefreshToken(**{column.name: row[column] for column in rt.c})


def _live(at: datetime) -> list[Any]:
    """Conditions of a family that is neither revoked nor expired at ``at``."""
    return [f.c.revoked_at.is_(None), f.c.expires_at > at]


async def _spend(conn: AsyncConnection, token_hash: str, at: datetime) -> TokenFamily | None:
    """Mark an unspent, unexpired token of a live family as used; its family, or None."""
    spendable = [rt.c.token_hash == token_hash, rt.c.used_at.is_(None), rt.c.expires_at > at]
    if conn.dialect.name == "postgresql":
        # UPDATE ... FROM ... RETURNING: spend and read the family in one round trip. The
        # row lock makes a concurrent second UPDATE re-check used_at and match nothing.
        statement = (
            update(rt)
            .where(*spendable, rt.c.family_id == f.c.id, *_live(at))
            .values(used_at=at)
            .returning(*f.c)
        )
        row = (await conn.execute(statement)).one_or_none()
        return None if row is None else _family_from(row._mapping)
    # SQLite's RETURNING cannot name a joined table; the transaction holds the write lock.
    live_family = exists().where(f.c.id == rt.c.family_id, *_live(at))
    spend = update(rt).where(*spendable, live_family).values(used_at=at)
    family_id = (await conn.execute(spend.returning(rt.c.family_id))).scalar_one_or_none()
    if family_id is None:
        return None
    row = (await conn.execute(select(f).where(f.c.id == family_id))).one()
    return _family_from(row._mapping)


async def _revoke_for_reuse(conn: AsyncConnection, family: TokenFamily, at: datetime) -> Rotation:
    revoked = (
        await conn.execute(
            update(f)
            .where(f.c.id == family.id, f.c.revoked_at.is_(None))
            .values(revoked_at=at, revoked_reason=REUSE_REASON)
        )
    ).rowcount
    if revoked != 1:
        # Revoked meanwhile (e.g. by a concurrent reuse): report the family as stored.
        row = (await conn.execute(select(f).where(f.c.id == family.id))).one()
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
                insert(f).values({column.name: getattr(family, column.name) for column in f.c})
            )
            await conn.execute(insert(rt).values(_token_values(first, family.id)))

    async def find(self, token_hash: str) -> tuple[TokenFamily, RefreshToken] | None:
        """A token and its family, by hash, whatever their state."""
        query = select(rt, f).join(f, f.c.id == rt.c.family_id).where(rt.c.token_hash == token_hash)
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(query)).one_or_none()
        if row is None:
            return None
        return _family_from(row._mapping), _token_from(row._mapping)

    async def get_family(self, family_id: str) -> TokenFamily | None:
        """By id (``sid``)."""
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(select(f).where(f.c.id == family_id))).one_or_none()
        return None if row is None else _family_from(row._mapping)

    async def rotate(self, token_hash: str, successor: RefreshToken, at: datetime) -> Rotation:
        """Atomically spend ``token_hash`` and insert ``successor`` into the same family.

        ROTATED: this call spent an unspent, unexpired token of a live family (the
        successor joins that family, whatever its own ``family_id`` says). REUSED: the
        token was already spent; its family is revoked (reason ``reuse``) in the same
        transaction. UNKNOWN (with no family): no such token, the token has expired, or its
        family is revoked or expired. Two concurrent calls with one token never both rotate.
        """
        async with self._db.connection() as conn:
            family = await _spend(conn, token_hash, at)
            if family is not None:
                await conn.execute(insert(rt).values(_token_values(successor, family.id)))
                return Rotation(RotationOutcome.ROTATED, family)
            # Not spendable: one read tells a replayed token from an unknown one.
            query = (
                select(rt.c.used_at, rt.c.expires_at.label("token_expires_at"), f)
                .join(f, f.c.id == rt.c.family_id)
                .where(rt.c.token_hash == token_hash)
            )
            row = (await conn.execute(query)).one_or_none()
            if row is None or row.used_at is None or row.token_expires_at <= at:
                return _UNKNOWN
            found = _family_from(row._mapping)
            if found.is_revoked or found.expires_at <= at:
                return _UNKNOWN
            return await _revoke_for_reuse(conn, found, at)

    async def revoke_family(self, family_id: str, reason: str, at: datetime) -> bool:
        """Revoke one family; True when it was live (neither revoked nor expired)."""
        async with self._db.connection() as conn:
            result = await conn.execute(
                update(f)
                .where(f.c.id == family_id, *_live(at))
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
        statement = update(f).where(f.c.user_id == user_id, *_live(at))
        if org_id is not None:
            statement = statement.where(f.c.org_id == org_id)
        if except_family is not None:
            statement = statement.where(f.c.id != except_family)
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
