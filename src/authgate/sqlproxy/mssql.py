"""SQL Server and Azure SQL through aioodbc (pyodbc), an optional extra.

``pip install 'authgate[mssql]'`` installs aioodbc and pyodbc; they need unixODBC and an
ODBC driver for SQL Server on the machine (Microsoft's "ODBC Driver 18 for SQL Server", or
FreeTDS's, named with ``?driver=…`` in the connection URL). Without them a call answers
``sql_driver_unavailable``. pyodbc binds every value as an ODBC parameter (``?``).

This engine has not been run against a live SQL Server: the placeholder translation, the
value binding and the shape of a procedure call are tested without one. T-SQL needs no
``;`` between statements, so on SQL Server the one-statement rule rests on the publish-time
check of the function's text (values are bound all the same and never become SQL). The
query timeout is ODBC's ``SQL_ATTR_QUERY_TIMEOUT``; a read-only connection runs each call in
a transaction that is always rolled back (and asks for ``ApplicationIntent=ReadOnly``).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Any

from authgate.errors import AuthgateError
from authgate.functions.errors import FunctionCallFailed
from authgate.functions.sql_dialect import (
    DriverStatement,
    SqlDialect,
    StatementRefused,
    translate_query,
)
from authgate.functions.sql_errors import SqlDriverUnavailable, SqlStatementRefused
from authgate.functions.sql_ports import SqlCall, SqlOutcome
from authgate.functions.sql_procedure import mssql_call
from authgate.functions.sql_values import output_values, shape_rows
from authgate.sqlproxy import failures
from authgate.sqlproxy.engine import CONNECT_SECONDS, IDLE_SECONDS, Deadline, capped
from authgate.sqlproxy.pool import ConnectionPool, Lease
from authgate.sqlproxy.target import ConnectionTarget, odbc_connection_string

_CLIENT_GRACE = 1.0
_TIMEOUT_STATES = frozenset({"HYT00", "HYT01"})


def mssql_statement(call: SqlCall) -> DriverStatement:
    """The batch a call runs: the translated query, or the ``EXEC`` of the procedure."""
    if call.method == "query":
        assert call.query is not None
        return translate_query(call.query, SqlDialect.MSSQL)
    assert call.procedure is not None
    return mssql_call(call.procedure, inputs=call.inputs, outputs=call.outputs)


def mssql_outcome(
    call: SqlCall, result_sets: Sequence[tuple[Sequence[str], Sequence[Sequence[Any]]]]
) -> SqlOutcome:
    """The outcome from the batch's result sets: with output parameters the last one is
    theirs (one row) and the procedure's rows are the first before it."""
    sets = list(result_sets)
    outputs = None
    if call.method == "execute" and call.outputs:
        columns, rows = sets.pop() if sets else ((), ())
        outputs = output_values(
            call.outputs, dict(zip(columns, rows[0], strict=False)) if rows else {}
        )
    if not sets:
        return SqlOutcome([], False, outputs)
    columns, rows = sets[0]
    capped(call, rows)
    return SqlOutcome(shape_rows(columns, rows), True, outputs)


class MssqlEngine:
    """A bounded pool of aioodbc connections for one connection credential."""

    dialect = SqlDialect.MSSQL

    def __init__(self, target: ConnectionTarget, *, pool_size: int, statement_seconds: float):
        self._dsn = odbc_connection_string(target)
        self._read_only = target.read_only
        self._query_seconds = max(1, math.ceil(statement_seconds))
        self._pool: ConnectionPool[Any] = ConnectionPool(
            self._connect, _close, max_size=pool_size, idle_seconds=IDLE_SECONDS
        )

    async def _connect(self) -> Any:
        try:
            import aioodbc  # an optional extra: imported only when SQL Server is used
        except ImportError:
            raise SqlDriverUnavailable(
                "SQL Server connections need the 'mssql' extra on this server",
                "install authgate[mssql], unixODBC and an ODBC driver for SQL Server",
            ) from None
        connection = await aioodbc.connect(
            dsn=self._dsn, autocommit=not self._read_only, timeout=int(CONNECT_SECONDS)
        )
        connection._conn.timeout = self._query_seconds  # SQL_ATTR_QUERY_TIMEOUT
        return connection

    async def run(self, call: SqlCall) -> SqlOutcome:
        """Run the call (see the module docstring)."""
        try:
            statement = mssql_statement(call)
        except StatementRefused as refused:
            raise SqlStatementRefused(
                f"The SQL function '{call.function}' cannot run on SQL Server as written",
                f"{refused}; fix the query",
            ) from None
        values = [call.values.get(name) for name in statement.names]
        deadline = Deadline(call.timeout)
        try:
            async with self._pool.lease(deadline.left(call)) as lease:
                return await self._leased(lease, call, deadline, statement.text, values)
        except TimeoutError:
            raise failures.busy(call) from None
        except AuthgateError:
            raise
        except Exception as error:  # pyodbc.Error, without importing the optional driver
            raise _failure(call, error) from None

    async def _leased(
        self,
        lease: Lease[Any],
        call: SqlCall,
        deadline: Deadline,
        text: str,
        values: Sequence[Any],
    ) -> SqlOutcome:
        connection = lease.connection
        try:
            async with asyncio.timeout(deadline.left(call) + _CLIENT_GRACE):
                cursor = await connection.cursor()
                try:
                    sets = await _result_sets(cursor, call, text, values)
                finally:
                    await cursor.close()
                if self._read_only:
                    await connection.rollback()
        except TimeoutError:
            lease.discard = True
            raise failures.timeout(call) from None
        except BaseException:
            lease.discard = True
            raise
        return mssql_outcome(call, sets)

    async def close(self) -> None:
        """Close the pool (waits for calls in progress)."""
        await self._pool.close()


async def _result_sets(
    cursor: Any, call: SqlCall, text: str, values: Sequence[Any]
) -> list[tuple[list[str], list[Any]]]:
    await cursor.execute(text, *values)
    sets: list[tuple[list[str], list[Any]]] = []
    while True:
        if cursor.description is not None:
            columns = [column[0] for column in cursor.description]
            rows = await cursor.fetchmany(call.max_rows + 1)
            capped(call, rows)
            sets.append((columns, [tuple(row) for row in rows]))
        if not await cursor.nextset():
            return sets


async def _close(connection: Any) -> None:
    await connection.close()


def _failure(call: SqlCall, error: Exception) -> FunctionCallFailed:
    state = error.args[0] if error.args and isinstance(error.args[0], str) else ""
    if state in _TIMEOUT_STATES:
        return failures.timeout(call)
    if state == "IM002":  # data source or driver not found
        return SqlDriverUnavailable(
            f"The ODBC driver named by connection '{call.connection}' is not installed",
            "install Microsoft's ODBC Driver 18 for SQL Server (or name an installed one "
            "with ?driver=…)",
        )
    if state.startswith(("08", "28")) or not state:
        return failures.unreachable(call, "the database refused the login or is unreachable")
    return failures.from_sqlstate(call, state)
