"""Browser sessions at authgate's own pages, and the app sessions each one started, on SQL.

Creating, finding and linking run on every sign-in, authorization and code exchange, so
each is one statement on the driver path. Ending a session revokes the refresh-token
families linked to it in the same transaction. A link and an end racing each other never
leave a live family behind: the link reads the browser session ``FOR SHARE`` (PostgreSQL;
SQLite writes one at a time anyway), so either the end sees the new link, or the link sees
the ended session, stores nothing and revokes the family itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, or_, select, update

from authgate.provider.models import BrowserSession
from authgate.store.driver import DriverStatement
from authgate.store.provider_tables import browser_session_families, browser_sessions
from authgate.store.rotation import live
from authgate.store.rows import column_values, insert_row, read_row, written_row
from authgate.store.session import Database
from authgate.store.tables import token_families

LOGOUT_REASON = "logout"
"""``revoked_reason`` of a family revoked because its browser session ended."""

_s = browser_sessions
_l = browser_session_families
_f = token_families


def _link_statement() -> Any:
    """Insert the link only while the browser session has not ended, locking its row
    against a concurrent end until the insert commits; returns the family id if linked."""
    family = bindparam("family_id", type_=_l.c.family_id.type)
    source = (
        select(family, _s.c.id)
        .where((_s.c.id == bindparam("session_id")) & _s.c.ended_at.is_(None))
        .with_for_update(read=True)
    )
    return (
        insert(_l)
        .from_select([_l.c.family_id, _l.c.browser_session_id], source)
        .returning(_l.c.family_id)
    )


_CREATE = DriverStatement(insert(_s))
_FIND = DriverStatement(select(_s).where(_s.c.secret_hash == bindparam("secret_hash")))
_GET = DriverStatement(select(_s).where(_s.c.id == bindparam("session_id")))
_LINK = DriverStatement(_link_statement())


def _session(row: Mapping[str, Any]) -> BrowserSession:
    return BrowserSession(**{**row, "amr": tuple(row["amr"])})


def _revoke(at: datetime) -> Any:
    return update(_f).where(*live(at)).values(revoked_at=at, revoked_reason=LOGOUT_REASON)


class SqlBrowserSessionRepository:
    """:class:`authgate.provider.ports.BrowserSessionRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, session: BrowserSession) -> None:
        """Insert."""
        values = column_values(session, _s, amr=list(session.amr))
        await insert_row(self._db, _CREATE, values, "this browser session already exists")

    async def find(self, secret_hash: str) -> BrowserSession | None:
        """By the keyed hash of the cookie's secret, live or not."""
        row = await read_row(self._db, _FIND, {"secret_hash": secret_hash})
        return None if row is None else _session(row)

    async def get(self, session_id: str) -> BrowserSession | None:
        """By id (the ID token's ``sid``), live or not."""
        row = await read_row(self._db, _GET, {"session_id": session_id})
        return None if row is None else _session(row)

    async def link(self, session_id: str, family_id: str) -> None:
        """Record that the family started from this browser session; when the session has
        ended (or is unknown) meanwhile, revoke the family instead (reason ``logout``)."""
        values = {"session_id": session_id, "family_id": family_id}
        if await written_row(self._db, _LINK, values) is not None:
            return
        # Dead on arrival: revoked as of its own start, no clock needed.
        statement = (
            update(_f)
            .where(_f.c.id == family_id, _f.c.revoked_at.is_(None))
            .values(revoked_at=_f.c.created_at, revoked_reason=LOGOUT_REASON)
        )
        async with self._db.connection() as conn:
            await conn.execute(statement)

    async def end(self, session_id: str, at: datetime) -> int:
        """End the browser session and revoke every live family linked to it (reason
        ``logout``), in one transaction; how many families were revoked."""
        linked = select(_l.c.family_id).where(_l.c.browser_session_id == session_id)
        async with self._db.connection() as conn:
            await conn.execute(
                update(_s).where(_s.c.id == session_id, _s.c.ended_at.is_(None)).values(ended_at=at)
            )
            result = await conn.execute(_revoke(at).where(_f.c.id.in_(linked)))
        return int(result.rowcount)

    async def end_for_user(self, user_id: str, at: datetime) -> int:
        """End every live browser session of a user; how many."""
        statement = (
            update(_s)
            .where(_s.c.user_id == user_id, _s.c.ended_at.is_(None), _s.c.expires_at > at)
            .values(ended_at=at)
        )
        async with self._db.connection() as conn:
            result = await conn.execute(statement)
        return int(result.rowcount)

    async def prune(self, before: datetime) -> int:
        """Delete sessions that expired or ended before ``before`` (with their links); how
        many."""
        statement = delete(_s).where(or_(_s.c.expires_at < before, _s.c.ended_at < before))
        async with self._db.connection() as conn:
            result = await conn.execute(statement)
        return int(result.rowcount)
