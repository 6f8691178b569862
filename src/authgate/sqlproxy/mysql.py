"""MySQL and MariaDB through asyncmy.

Why asyncmy: a maintained asyncio driver (Cython, the fastest of them), with type stubs.
Like every MySQL driver for Python it binds values by escaping them into the statement
text on the client (the server's text protocol); it escapes for the connection's character
set and for ``NO_BACKSLASH_ESCAPES``, and authgate never formats a value into SQL itself.

asyncmy always asks the server for multi-statement mode; authgate switches it off on each
new connection (``COM_SET_OPTION``), so the server refuses a second statement whatever
the text looks like. On MariaDB each statement runs under ``SET STATEMENT
max_statement_time=… FOR``, which the server enforces; on MySQL ``max_execution_time``
bounds SELECTs, and a statement still running at its deadline has its connection closed.
A read-only connection runs each call in ``START TRANSACTION READ ONLY``. Rows are read
unbuffered, so no more than ``max_rows + 1`` are ever held.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncmy
from asyncmy.constants import COMMAND
from asyncmy.cursors import SSCursor
from asyncmy.errors import MySQLError

from authgate.functions.errors import FunctionCallFailed
from authgate.functions.sql_dialect import SqlDialect, StatementRefused, translate_query
from authgate.functions.sql_errors import SqlStatementFailed, SqlStatementRefused
from authgate.functions.sql_ports import SqlCall, SqlOutcome
from authgate.functions.sql_procedure import (
    ArgumentMode,
    ProcedureArgument,
    mysql_call,
    mysql_lookup_name,
)
from authgate.functions.sql_values import output_values
from authgate.sqlproxy import failures
from authgate.sqlproxy.engine import CONNECT_SECONDS, IDLE_SECONDS, Deadline, outcome
from authgate.sqlproxy.pool import ConnectionPool, Lease
from authgate.sqlproxy.target import ConnectionTarget

_MULTI_STATEMENTS_OFF = b"\x01\x00"  # COM_SET_OPTION: MYSQL_OPTION_MULTI_STATEMENTS_OFF
_CLIENT_GRACE = 1.0
"""MariaDB ends a statement at its deadline itself; the client waits this much longer."""
_PROCEDURES_KEPT = 256
_ROUTINE = """
SELECT COUNT(*) FROM information_schema.ROUTINES
WHERE ROUTINE_SCHEMA = COALESCE(%s, DATABASE()) AND ROUTINE_NAME = %s
  AND ROUTINE_TYPE = 'PROCEDURE'
"""
_ARGUMENTS = """
SELECT PARAMETER_NAME, PARAMETER_MODE FROM information_schema.PARAMETERS
WHERE SPECIFIC_SCHEMA = COALESCE(%s, DATABASE()) AND SPECIFIC_NAME = %s
  AND ROUTINE_TYPE = 'PROCEDURE' AND ORDINAL_POSITION > 0
ORDER BY ORDINAL_POSITION
"""
# MySQL error numbers (ER_*, CR_*) by what they mean to a caller; SQLSTATE-like classes.
_CONSTRAINT = frozenset({1022, 1048, 1062, 1169, 1216, 1217, 1364, 1451, 1452, 1557, 1586})
_CONSTRAINT |= {3819, 4025}
_VALUE = frozenset({1264, 1265, 1292, 1366, 1367, 1406, 1411, 1690, 3140, 1300})
_TIMEOUT = frozenset({1969, 3024})
_READ_ONLY = frozenset({1792, 1290, 1836})
_CONNECTION = frozenset({1040, 1044, 1045, 1049, 1129, 1130, 2002, 2003, 2005, 2006, 2013})
_STATES = {1064: "42601", 1149: "42601", 1146: "42S02", 1054: "42S22", 1305: "42883"}
_STATES |= {1318: "42883", 1142: "42501", 1143: "42501", 1227: "42501", 1370: "42501"}


@dataclass(slots=True)
class _Connection:
    raw: Any
    mariadb: bool
    in_transaction: bool = field(default=False)


class MysqlEngine:
    """A bounded pool of asyncmy connections for one connection credential."""

    dialect = SqlDialect.MYSQL

    def __init__(self, target: ConnectionTarget, *, pool_size: int, statement_seconds: float):
        self._target = target
        self._statement_seconds = statement_seconds
        self._pool: ConnectionPool[_Connection] = ConnectionPool(
            self._connect, _close, max_size=pool_size, idle_seconds=IDLE_SECONDS
        )
        self._procedures: dict[str, list[ProcedureArgument]] = {}

    async def _connect(self) -> _Connection:
        target = self._target
        raw = await asyncmy.connect(
            host=target.host,
            port=target.port,
            user=target.user,
            password=target.password or "",
            db=target.database,
            charset="utf8mb4",
            autocommit=True,
            connect_timeout=CONNECT_SECONDS,
            ssl=_ssl_context(target),
        )
        try:
            await raw._execute_command(COMMAND.COM_SET_OPTION, _MULTI_STATEMENTS_OFF)  # type: ignore[attr-defined]
            await raw.read_packet()  # type: ignore[no-untyped-call]
            mariadb = "mariadb" in raw.get_server_info().lower()
            if not mariadb:
                milliseconds = max(1, int(self._statement_seconds * 1000))
                async with raw.cursor() as cursor:
                    await cursor.execute(f"SET SESSION max_execution_time = {milliseconds}")
        except BaseException:
            raw.close()
            raise
        return _Connection(raw, mariadb)

    async def run(self, call: SqlCall) -> SqlOutcome:
        """Run the call (see the module docstring)."""
        deadline = Deadline(call.timeout)
        try:
            async with self._pool.lease(deadline.left(call)) as lease:
                return await self._leased(lease, call, deadline)
        except TimeoutError:
            raise failures.busy(call) from None
        except (OSError, MySQLError) as error:
            raise _failure(call, error) from None

    async def _leased(
        self, lease: Lease[_Connection], call: SqlCall, deadline: Deadline
    ) -> SqlOutcome:
        connection = lease.connection
        try:
            grace = _CLIENT_GRACE if connection.mariadb else 0.0
            async with asyncio.timeout(deadline.left(call) + grace):
                return await self._call(connection, call, deadline)
        except TimeoutError:
            lease.discard = True  # the statement may still be running on it
            raise failures.timeout(call) from None
        except StatementRefused as refused:
            raise SqlStatementRefused(
                f"The SQL function '{call.function}' cannot run on MySQL/MariaDB as written",
                f"{refused}; fix the query",
            ) from None
        except FunctionCallFailed:
            # Rows left unread (the row cap) or a transaction left open: start afresh.
            lease.discard = True
            raise
        except MySQLError as error:
            number = _number(error)
            if connection.in_transaction or number in _TIMEOUT or number in _CONNECTION:
                lease.discard = True
            raise _failure(call, error) from None

    async def _call(self, connection: _Connection, call: SqlCall, deadline: Deadline) -> SqlOutcome:
        read_only = self._target.read_only
        if read_only:
            await self._simple(connection, "START TRANSACTION READ ONLY", ())
            connection.in_transaction = True
        if call.method == "query":
            assert call.query is not None
            statement = translate_query(call.query, SqlDialect.MYSQL)
            values = [call.values.get(name) for name in statement.names]
            found = await self._rows(connection, call, deadline, statement.text, values)
        else:
            found = await self._procedure(connection, call, deadline)
        if read_only:
            await self._simple(connection, "COMMIT", ())
            connection.in_transaction = False
        return found

    async def _procedure(
        self, connection: _Connection, call: SqlCall, deadline: Deadline
    ) -> SqlOutcome:
        assert call.procedure is not None
        arguments = await self._arguments(connection, call)
        shape = mysql_call(
            call.procedure,
            arguments=arguments,
            inputs=call.inputs,
            outputs=[name for name, _ in call.outputs],
        )
        for setup in shape.setup:
            values = [call.values.get(name) for name in setup.names]
            await self._simple(connection, _timed(connection, setup.text, deadline, call), values)
        values = [call.values.get(name) for name in shape.call.names]
        found = await self._rows(connection, call, deadline, shape.call.text, values)
        if shape.read_outputs is None:
            return found
        cursor = connection.raw.cursor()
        async with cursor:
            await cursor.execute(shape.read_outputs)
            row = await cursor.fetchone()
            columns = [column[0] for column in cursor.description or ()]
        outputs = dict(zip(columns, row or (), strict=False))
        return SqlOutcome(found.rows, found.result_set, output_values(call.outputs, outputs))

    async def _rows(
        self,
        connection: _Connection,
        call: SqlCall,
        deadline: Deadline,
        text: str,
        values: Sequence[Any],
    ) -> SqlOutcome:
        cursor = connection.raw.cursor(SSCursor)
        await cursor.execute(_timed(connection, text, deadline, call), tuple(values))
        description = cursor.description
        rows: Sequence[Any] = []
        if description is not None:
            rows = await cursor.fetchmany(call.max_rows + 1)
            if len(rows) > call.max_rows:
                raise failures.row_cap(call)  # the rest is never read: the caller discards
        await cursor.close()  # reads what is left of a procedure's results
        columns = [column[0] for column in description or ()]
        return outcome(call, columns, rows, result_set=description is not None)

    async def _arguments(self, connection: _Connection, call: SqlCall) -> list[ProcedureArgument]:
        assert call.procedure is not None
        known = self._procedures.get(call.procedure)
        if known is not None:
            return known
        schema, name = mysql_lookup_name(call.procedure)
        async with connection.raw.cursor() as cursor:
            await cursor.execute(_ROUTINE, (schema, name))
            (count,) = await cursor.fetchone()
            if not count:
                raise SqlStatementFailed(
                    f"The SQL function '{call.function}' names a procedure the database does "
                    "not have",
                    "check 'procedure' (database and name) against the connection's database",
                )
            await cursor.execute(_ARGUMENTS, (schema, name))
            rows = await cursor.fetchall()
        arguments = [ProcedureArgument(str(row[0]), ArgumentMode(str(row[1]))) for row in rows]
        if len(self._procedures) >= _PROCEDURES_KEPT:
            self._procedures.clear()
        self._procedures[call.procedure] = arguments
        return arguments

    async def _simple(self, connection: _Connection, text: str, values: Sequence[Any]) -> None:
        async with connection.raw.cursor() as cursor:
            await cursor.execute(text, tuple(values) if values else None)

    async def close(self) -> None:
        """Close the pool (waits for calls in progress)."""
        await self._pool.close()


def _timed(connection: _Connection, text: str, deadline: Deadline, call: SqlCall) -> str:
    if not connection.mariadb:
        return text
    # MariaDB cancels the statement itself at its deadline (milliseconds, at least one).
    seconds = max(deadline.left(call), 0.001)
    return f"SET STATEMENT max_statement_time={seconds:.3f} FOR {text}"


async def _close(connection: _Connection) -> None:
    connection.raw.close()


def _ssl_context(target: ConnectionTarget) -> ssl.SSLContext | None:
    mode = (target.option("ssl") or target.option("ssl_mode") or "").lower()
    if mode in ("", "0", "false", "disabled", "off"):
        return None
    context = ssl.create_default_context()
    if mode in ("required", "require"):
        # Encrypted, not verified: what "required" means to MySQL clients.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _number(error: BaseException) -> int:
    first = error.args[0] if error.args else 0
    return first if isinstance(first, int) else 0


def _failure(call: SqlCall, error: BaseException) -> FunctionCallFailed:
    if isinstance(error, OSError):
        return failures.unreachable(call, "the connection failed or was lost")
    number = _number(error)
    if number in _TIMEOUT:
        return failures.timeout(call)
    if number in _READ_ONLY:
        return failures.read_only(call)
    if number in _CONSTRAINT:
        return failures.from_sqlstate(call, "23000")
    if number in _VALUE:
        return failures.from_sqlstate(call, "22000")
    if number in _CONNECTION or number == 0:
        return failures.unreachable(call, "the database refused the login or is unreachable")
    return failures.from_sqlstate(call, _STATES.get(number, "42000" if number < 2000 else None))
