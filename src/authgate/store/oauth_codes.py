"""The provider's one-time records on SQL: authorization codes and pushed requests.

Both sit on the hot path of an authorization, so each call is one statement that is atomic
alone and, outside a transaction, takes the driver path (:mod:`authgate.store.driver`).
Spending a code is one ``UPDATE … RETURNING`` and taking a pushed request one
``DELETE … RETURNING``: of two concurrent attempts exactly one gets the row.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from authgate.provider.models import AuthorizationCode, PushedRequest
from authgate.store.driver import DriverStatement
from authgate.store.provider_tables import oauth_codes, oauth_pushed_requests
from authgate.store.rows import column_values, insert_row, read_row, written_row
from authgate.store.session import Database

_c = oauth_codes
_p = oauth_pushed_requests

_ADD_CODE = DriverStatement(insert(_c))
_SPEND_CODE = DriverStatement(
    update(_c)
    .where(
        (_c.c.code_hash == bindparam("code_hash"))
        & _c.c.used_at.is_(None)
        & (_c.c.expires_at > bindparam("at"))
    )
    .values(used_at=bindparam("at"), session_id=bindparam("session_id"))
    .returning(*_c.c)
)
_GET_CODE = DriverStatement(select(_c).where(_c.c.code_hash == bindparam("code_hash")))
_ADD_PUSHED = DriverStatement(insert(_p))
_TAKE_PUSHED = DriverStatement(
    delete(_p)
    .where((_p.c.uri_hash == bindparam("uri_hash")) & (_p.c.expires_at > bindparam("at")))
    .returning(*_p.c)
)


def _code(row: Mapping[str, Any]) -> AuthorizationCode:
    return AuthorizationCode(**{**row, "amr": tuple(row["amr"])})


class SqlAuthorizationCodeRepository:
    """:class:`authgate.provider.ports.AuthorizationCodeRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, code: AuthorizationCode) -> None:
        """Insert a new code."""
        values = column_values(code, _c, amr=list(code.amr))
        await insert_row(self._db, _ADD_CODE, values, "this authorization code already exists")

    async def spend(
        self, code_hash: str, at: datetime, session_id: str
    ) -> AuthorizationCode | None:
        """Mark an unspent, unexpired code used by ``session_id``: one conditional statement,
        so of two concurrent calls at most one gets the code."""
        values = {"code_hash": code_hash, "at": at, "session_id": session_id}
        row = await written_row(self._db, _SPEND_CODE, values)
        return None if row is None else _code(row)

    async def get(self, code_hash: str) -> AuthorizationCode | None:
        """A code, used or not."""
        row = await read_row(self._db, _GET_CODE, {"code_hash": code_hash})
        return None if row is None else _code(row)

    async def prune(self, before: datetime) -> int:
        """Delete codes that expired before ``before``; how many."""
        async with self._db.connection() as conn:
            result = await conn.execute(delete(_c).where(_c.c.expires_at < before))
        return int(result.rowcount)


class SqlPushedRequestRepository:
    """:class:`authgate.provider.ports.PushedRequestRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, pushed: PushedRequest) -> None:
        """Insert."""
        values = column_values(pushed, _p, parameters=dict(pushed.parameters))
        await insert_row(self._db, _ADD_PUSHED, values, "this request_uri already exists")

    async def take(self, uri_hash: str, at: datetime) -> PushedRequest | None:
        """Delete and return the request if it has not expired at ``at``: one statement, so
        of two concurrent takes only one gets it."""
        row = await written_row(self._db, _TAKE_PUSHED, {"uri_hash": uri_hash, "at": at})
        return None if row is None else PushedRequest(**row)

    async def prune(self, before: datetime) -> int:
        """Delete requests that expired before ``before`` and were never taken; how many."""
        async with self._db.connection() as conn:
            result = await conn.execute(delete(_p).where(_p.c.expires_at < before))
        return int(result.rowcount)
