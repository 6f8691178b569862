"""Email verification and password reset tokens (stored as keyed hashes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update

from authgate.identity.models import OneTimeToken, TokenPurpose
from authgate.store.session import Database
from authgate.store.tables import one_time_tokens

_DUPLICATE = "this one-time token already exists"

_t = one_time_tokens


class SqlOneTimeTokenRepository:
    """:class:`authgate.identity.ports.OneTimeTokenRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, token: OneTimeToken) -> None:
        """Insert."""
        async with self._db.unique(_DUPLICATE) as conn:
            await conn.execute(
                insert(_t).values(
                    id=token.id,
                    user_id=token.user_id,
                    purpose=token.purpose,
                    token_hash=token.token_hash,
                    created_at=token.created_at,
                    expires_at=token.expires_at,
                    used_at=token.used_at,
                )
            )

    async def get_by_hash(self, token_hash: str) -> OneTimeToken | None:
        """By the keyed hash of the token."""
        async with self._db.connection(write=False) as conn:
            query = select(_t).where(_t.c.token_hash == token_hash)
            row = (await conn.execute(query)).one_or_none()
        return None if row is None else OneTimeToken(**row._mapping)

    async def consume(self, token_id: str, at: datetime) -> bool:
        """Set used_at only if unused; True when this call did it."""
        # One conditional UPDATE: of two concurrent uses exactly one matches.
        async with self._db.connection() as conn:
            result = await conn.execute(
                update(_t).where(_t.c.id == token_id, _t.c.used_at.is_(None)).values(used_at=at)
            )
        return result.rowcount == 1

    async def invalidate(self, user_id: str, purpose: TokenPurpose, at: datetime) -> None:
        """Mark every unused token of this user and purpose as used."""
        async with self._db.connection() as conn:
            await conn.execute(
                update(_t)
                .where(_t.c.user_id == user_id, _t.c.purpose == purpose, _t.c.used_at.is_(None))
                .values(used_at=at)
            )
