"""Hot-path statements run straight on the driver, on PostgreSQL and on SQLite files.

SQLAlchemy's async connection and result machinery costs a few hundred µs of CPU per
statement on top of the driver (and, on SQLite, several thread hand-offs: see
:mod:`authgate.store.sqlite_driver`). Sign-in, refresh and the session check run a handful of
statements per request, so for those the overhead is most of the work. A
:class:`DriverStatement` is a SQLAlchemy statement compiled once per dialect, with the
column types' bind and result conversions, so values go in and come out exactly as through
SQLAlchemy. Only statements that are atomic on their own, or a few run together with
:func:`execute`, belong here, and only when :attr:`Database.driver_path` allows it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import Dialect
from sqlalchemy.sql import Executable, Select
from sqlalchemy.sql.dml import UpdateBase

from authgate.errors import Conflict, ServiceUnavailable
from authgate.store.database import UNAVAILABLE
from authgate.store.session import Database, unavailable_on_connect
from authgate.store.sqlite_driver import atomic

Row = dict[str, Any]
_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    order: tuple[str, ...]
    binds: tuple[_Processor, ...]
    results: tuple[_Processor, ...]
    construct: Callable[[dict[str, Any]], dict[str, Any]]


class DriverStatement:
    """A statement compiled once per dialect to the driver's positional form."""

    __slots__ = ("_by_dialect", "statement")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        """The SQLAlchemy statement (for running it inside a transaction)."""
        self._by_dialect: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        """The SQL, parameter order and conversions for ``dialect`` (cached)."""
        found = self._by_dialect.get(dialect.name)
        if found is None:
            compiled: Any = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
            order = tuple(compiled.positiontup or ())
            binds = tuple(
                compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                for name in order
            )
            results: tuple[_Processor, ...] = ()
            returned: Any = ()
            if isinstance(self.statement, Select):
                returned = self.statement.selected_columns
            elif isinstance(self.statement, UpdateBase):
                returned = self.statement.exported_columns  # UPDATE/DELETE … RETURNING
            if returned:
                results = tuple(
                    column.type.dialect_impl(dialect).result_processor(dialect, None)
                    for column in returned
                )
            found = _Compiled(str(compiled), order, binds, results, compiled.construct_params)
            self._by_dialect[dialect.name] = found
        return found


def _arguments(compiled: _Compiled, values: Mapping[str, Any]) -> list[Any]:
    # Merged with the statement's own constants, then converted as SQLAlchemy would.
    merged = compiled.construct(dict(values))
    out = []
    for name, process in zip(compiled.order, compiled.binds, strict=True):
        value = merged[name]
        out.append(value if process is None else process(value))
    return out


def _row(compiled: _Compiled, names: Sequence[str], values: Sequence[Any]) -> Row:
    if not compiled.results:
        return dict(zip(names, values, strict=True))
    return {
        name: value if process is None else process(value)
        for name, value, process in zip(names, values, compiled.results, strict=True)
    }


@asynccontextmanager
async def _pg_connection(db: Database) -> AsyncIterator[Any]:
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


async def fetch_all(
    db: Database, statement: DriverStatement, values: Mapping[str, Any]
) -> list[Row]:
    """Every row of one self-contained query."""
    compiled = statement.compiled(db.engine.dialect)
    arguments = _arguments(compiled, values)
    if db.sqlite_driver is not None:

        def query(connection: sqlite3.Connection) -> list[Row]:
            cursor = connection.execute(compiled.sql, arguments)
            names = [column[0] for column in cursor.description]
            return [_row(compiled, names, row) for row in cursor.fetchall()]

        return await db.sqlite_driver.read(query)
    async with _pg_connection(db) as connection:
        records = await connection.fetch(compiled.sql, *arguments)
    return [_row(compiled, list(record.keys()), list(record.values())) for record in records]


async def fetch_row(
    db: Database, statement: DriverStatement, values: Mapping[str, Any]
) -> Row | None:
    """The first row (or None) of one self-contained statement."""
    compiled = statement.compiled(db.engine.dialect)
    arguments = _arguments(compiled, values)
    if db.sqlite_driver is not None:

        def query(connection: sqlite3.Connection) -> Row | None:
            cursor = connection.execute(compiled.sql, arguments)
            row = cursor.fetchone()
            cursor.close()
            if row is None:
                return None
            return _row(compiled, [column[0] for column in cursor.description], row)

        return await db.sqlite_driver.read(query)
    async with _pg_connection(db) as connection:
        record = await connection.fetchrow(compiled.sql, *arguments)
    return None if record is None else _row(compiled, list(record.keys()), list(record.values()))


async def fetch_written(
    db: Database, statement: DriverStatement, values: Mapping[str, Any]
) -> Row | None:
    """The row one self-contained write returns (``UPDATE``/``DELETE … RETURNING``), or None;
    on SQLite in one hand-off to the writer's thread, on PostgreSQL without a transaction."""
    compiled = statement.compiled(db.engine.dialect)
    arguments = _arguments(compiled, values)
    if db.sqlite_driver is not None:

        def write(connection: sqlite3.Connection) -> Row | None:
            cursor = connection.execute(compiled.sql, arguments)
            rows = cursor.fetchall()  # the statement completes only once its rows are read
            if not rows:
                return None
            return _row(compiled, [column[0] for column in cursor.description], rows[0])

        return await db.sqlite_driver.run(write)
    return await fetch_row(db, statement, values)


async def execute(
    db: Database,
    statements: Sequence[tuple[DriverStatement, Mapping[str, Any]]],
    *,
    conflict: str,
) -> None:
    """Run writes; several run in one transaction. A duplicate key is ``Conflict(conflict)``
    (never the driver's message: it names the duplicate value, which may be secret)."""
    dialect = db.engine.dialect
    prepared = []
    for statement, values in statements:
        compiled = statement.compiled(dialect)
        prepared.append((compiled.sql, _arguments(compiled, values)))
    if db.sqlite_driver is not None:

        def run_all(connection: sqlite3.Connection) -> None:
            for sql, arguments in prepared:
                connection.execute(sql, arguments)

        def write(connection: sqlite3.Connection) -> None:
            if len(prepared) == 1:
                run_all(connection)
            else:
                atomic(connection, run_all)

        try:
            await db.sqlite_driver.run(write)
        except sqlite3.IntegrityError as exc:
            if exc.sqlite_errorname in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"):
                raise Conflict(conflict) from None
            raise
        return
    async with _pg_connection(db) as connection:
        try:
            if len(prepared) == 1:
                await connection.execute(prepared[0][0], *prepared[0][1])
            else:
                async with connection.transaction():
                    for sql, arguments in prepared:
                        await connection.execute(sql, *arguments)
        except asyncpg.UniqueViolationError:
            raise Conflict(conflict) from None
