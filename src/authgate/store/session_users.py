"""The person behind a live app session, in one read (for userinfo, the hottest read of the
OpenID provider): the session (token family) must be live and the user enabled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select

from authgate.identity.models import User
from authgate.store.driver import DriverStatement, fetch_row
from authgate.store.session import Database
from authgate.store.tables import token_families, users
from authgate.store.types import UtcDateTime
from authgate.store.users import user_from

_f = token_families
_LIVE_USER = DriverStatement(
    select(*users.c)
    .join(_f, _f.c.user_id == users.c.id)
    .where(
        _f.c.id == bindparam("session_id"),
        _f.c.user_id == bindparam("user_id"),
        _f.c.revoked_at.is_(None),
        _f.c.expires_at > bindparam("at", type_=UtcDateTime()),
        users.c.disabled.is_(False),
    )
)


class SqlSessionUsers:
    """:class:`authgate.provider.ports.SessionUsers` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def live_user(self, session_id: str, user_id: str, at: datetime) -> User | None:
        """The enabled user of a live session of theirs, else None."""
        values = {"session_id": session_id, "user_id": user_id, "at": at}
        if self._db.driver_path:
            found = await fetch_row(self._db, _LIVE_USER, values)
            return None if found is None else user_from({c: found[c.name] for c in users.c})
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(_LIVE_USER.statement, values)).one_or_none()
        return None if row is None else user_from(row._mapping)
