"""SQLite through aiosqlite, confined to files inside ``AUTHGATE_SQL_SQLITE_DIR``.

A SQLite connection opens a file on authgate's own machine, so it is fenced in: the file
must exist inside the configured folder (see :mod:`.target`), ``ATTACH`` (and so ``VACUUM
INTO``) is refused by an authorizer, as are pragmas other than a few that only describe the
schema, and extensions cannot be loaded. A read-only connection opens the file with
``mode=ro``. The statement timeout is a progress handler that interrupts the statement at
its deadline; sqlite3 itself refuses a second statement. SQLite has no stored procedures.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiosqlite

from authgate.functions.errors import FunctionCallFailed
from authgate.functions.sql_dialect import SqlDialect, StatementRefused, translate_query
from authgate.functions.sql_errors import SqlStatementRefused
from authgate.functions.sql_ports import SqlCall, SqlOutcome
from authgate.sqlproxy import failures
from authgate.sqlproxy.engine import IDLE_SECONDS, Deadline, outcome
from authgate.sqlproxy.pool import ConnectionPool
from authgate.sqlproxy.target import ConnectionTarget

_PROGRESS_STEPS = 1000
"""SQLite virtual-machine steps between two looks at the deadline."""
_BUSY_SECONDS = 5.0
_SCHEMA_PRAGMAS = frozenset(
    {"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list"}
)
_ERRORS = {
    8: "25006",  # SQLITE_READONLY
    19: "23000",  # SQLITE_CONSTRAINT
    20: "22000",  # SQLITE_MISMATCH
    23: "42501",  # SQLITE_AUTH: refused by the authorizer
    25: "22000",  # SQLITE_RANGE
}


@dataclass(slots=True)
class _Connection:
    raw: aiosqlite.Connection
    deadline: float = math.inf


def _authorize(action: int, first: str | None, *_: object) -> int:
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA and (first or "").lower() not in _SCHEMA_PRAGMAS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


class SqliteEngine:
    """A bounded pool of aiosqlite connections to one database file."""

    dialect = SqlDialect.SQLITE

    def __init__(self, target: ConnectionTarget, *, pool_size: int, statement_seconds: float):
        assert target.path is not None
        mode = "ro" if target.read_only else "rw"  # never "rwc": no file is created
        self._uri = f"file:{quote(str(target.path))}?mode={mode}"
        self._pool: ConnectionPool[_Connection] = ConnectionPool(
            self._connect, _close, max_size=pool_size, idle_seconds=IDLE_SECONDS
        )

    async def _connect(self) -> _Connection:
        raw = await aiosqlite.connect(
            self._uri, uri=True, isolation_level=None, timeout=_BUSY_SECONDS
        )
        connection = _Connection(raw)

        def interrupt_late() -> int:
            # Runs on the connection's thread; a non-zero answer interrupts the statement.
            return 1 if time.monotonic() > connection.deadline else 0

        try:
            await raw.set_progress_handler(interrupt_late, _PROGRESS_STEPS)
            await raw.set_authorizer(_authorize)
        except BaseException:
            await raw.close()
            raise
        return connection

    async def run(self, call: SqlCall) -> SqlOutcome:
        """Run the call (see the module docstring)."""
        if call.method != "query":
            raise SqlStatementRefused(
                f"The SQL function '{call.function}' calls a stored procedure, which SQLite "
                "does not have",
                "use 'method: query' with the statement itself on a SQLite connection",
            )
        assert call.query is not None
        try:
            statement = translate_query(call.query, SqlDialect.SQLITE)
        except StatementRefused as refused:
            raise SqlStatementRefused(
                f"The SQL function '{call.function}' cannot run on SQLite as written",
                f"{refused}; fix the query",
            ) from None
        values = [call.values.get(name) for name in statement.names]
        deadline = Deadline(call.timeout)
        try:
            async with self._pool.lease(deadline.left(call)) as lease:
                connection = lease.connection
                connection.deadline = time.monotonic() + deadline.left(call)
                try:
                    return await _rows(connection.raw, call, statement.text, values)
                finally:
                    connection.deadline = math.inf
        except TimeoutError:
            raise failures.busy(call) from None
        except FunctionCallFailed:
            raise
        except sqlite3.Error as error:
            raise _failure(call, error) from None

    async def close(self) -> None:
        """Close the pool (waits for calls in progress)."""
        await self._pool.close()


async def _rows(
    raw: aiosqlite.Connection, call: SqlCall, text: str, values: Sequence[Any]
) -> SqlOutcome:
    cursor = await raw.execute(text, values)
    try:
        description = cursor.description
        rows: Sequence[Any] = []
        if description is not None:
            rows = list(await cursor.fetchmany(call.max_rows + 1))
    finally:
        await cursor.close()
    columns = [column[0] for column in description or ()]
    return outcome(call, columns, rows, result_set=description is not None)


async def _close(connection: _Connection) -> None:
    await connection.raw.close()


def _failure(call: SqlCall, error: sqlite3.Error) -> FunctionCallFailed:
    code = getattr(error, "sqlite_errorcode", 0) & 0xFF
    if code == 9:  # SQLITE_INTERRUPT: the deadline passed
        return failures.timeout(call)
    if code == 14:  # SQLITE_CANTOPEN
        return failures.unreachable(call, "the SQLite file cannot be opened")
    if isinstance(error, sqlite3.ProgrammingError):
        return SqlStatementRefused(
            f"The SQL function '{call.function}' cannot run on SQLite as written",
            "SQLite refused the statement (one statement per function, every placeholder "
            "bound); fix the query",
        )
    if isinstance(error, sqlite3.IntegrityError):
        return failures.from_sqlstate(call, "23000")
    return failures.from_sqlstate(call, _ERRORS.get(code, "42000"))
