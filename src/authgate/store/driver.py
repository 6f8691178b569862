"""PostgreSQL hot-path statements run straight on the pooled asyncpg connection.

SQLAlchemy's async connection and result machinery costs about 200 µs of CPU per statement
on top of the driver; the refresh grant runs two statements per request, so for those two
that overhead is most of the work. A :class:`DriverStatement` is a SQLAlchemy statement
compiled once for asyncpg; :func:`fetch_row` runs it on a connection from the same pool
(behind the same fair gate), mapping driver failures to ``ServiceUnavailable`` as the rest of
the store does. Only statements that are atomic on their own belong here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql import Executable

from authgate.errors import ServiceUnavailable
from authgate.store.session import UNAVAILABLE, Database, unavailable_on_connect

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


class DriverStatement:
    """A statement compiled once to asyncpg's ``$n`` form with its parameter order."""

    __slots__ = ("_compiled", "_order", "sql")

    def __init__(self, statement: Executable) -> None:
        self._compiled = statement.compile(dialect=_DIALECT)  # type: ignore[attr-defined]
        self.sql = str(self._compiled)
        self._order: list[str] = list(self._compiled.positiontup or [])

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        """Positional arguments: the given values, and the statement's own constants."""
        merged = self._compiled.construct_params(dict(values))
        return [merged[name] for name in self._order]


@asynccontextmanager
async def _driver_connection(db: Database) -> AsyncIterator[Any]:
    async with db.gate():
        try:
            with unavailable_on_connect():
                pooled = await db.engine.raw_connection()
        except db.engine.dialect.loaded_dbapi.Error as exc:
            # A raw checkout reports the driver's error without SQLAlchemy's wrapping.
            raise ServiceUnavailable(UNAVAILABLE) from exc
        try:
            yield pooled.driver_connection
        except (
            OSError,
            TimeoutError,
            asyncpg.InterfaceError,
            asyncpg.PostgresConnectionError,
        ) as exc:
            pooled.invalidate()  # the connection is gone or unusable: never hand it out again
            raise ServiceUnavailable(UNAVAILABLE) from exc
        finally:
            pooled.close()


async def fetch_row(
    db: Database, statement: DriverStatement, values: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """The first row (or None) of one self-contained statement."""
    async with _driver_connection(db) as connection:
        record = await connection.fetchrow(statement.sql, *statement.arguments(values))
    return None if record is None else dict(record)
