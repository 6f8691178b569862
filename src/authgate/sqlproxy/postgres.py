"""PostgreSQL through asyncpg: its pool, a per-connection statement timeout, read-only mode.

Every connection starts with ``statement_timeout`` (and, for a read-only connection,
``default_transaction_read_only``) as startup settings; asyncpg's pool runs ``RESET ALL``
when a connection comes back, so a function that changes a setting changes it for its own
statement only. asyncpg uses the extended query protocol, in which PostgreSQL refuses a
second statement outright. A query runs in a transaction through a cursor, so that at most
``max_rows + 1`` rows are ever read; a ``CALL`` runs outside one, because a procedure may
commit on its own.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

import asyncpg

from authgate.functions.model import ParameterType
from authgate.functions.sql_dialect import SqlDialect, StatementRefused, translate_query
from authgate.functions.sql_errors import (
    SqlInvalidValue,
    SqlStatementFailed,
    SqlStatementRefused,
)
from authgate.functions.sql_ports import SqlCall, SqlOutcome
from authgate.functions.sql_procedure import (
    ArgumentMode,
    ProcedureArgument,
    postgres_call,
    postgres_lookup_name,
)
from authgate.functions.sql_values import output_values
from authgate.sqlproxy import failures
from authgate.sqlproxy.engine import (
    CONNECT_SECONDS,
    IDLE_SECONDS,
    Deadline,
    first_row_outputs,
    outcome,
)
from authgate.sqlproxy.target import ConnectionTarget

_ARGUMENT = re.compile(r"query argument \$(\d+)")
_MODES = {
    "i": ArgumentMode.IN,
    "o": ArgumentMode.OUT,
    "b": ArgumentMode.INOUT,
    "v": ArgumentMode.VARIADIC,
    "t": ArgumentMode.TABLE,
}
_LOOKUP = """
SELECT p.prokind::text AS prokind, p.proargnames, p.proargmodes::text[] AS proargmodes
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE p.proname = $1
  AND CASE WHEN $2::text IS NULL THEN pg_catalog.pg_function_is_visible(p.oid)
           ELSE n.nspname = $2::text END
"""
_PROCEDURES_KEPT = 256
_TYPES = {  # how a declared type is written in a PostgreSQL cast
    ParameterType.STRING: "text",
    ParameterType.NUMBER: "numeric",
    ParameterType.INTEGER: "bigint",
    ParameterType.BOOLEAN: "boolean",
    ParameterType.OBJECT: "jsonb",
    ParameterType.ARRAY: "jsonb",
}


class PostgresEngine:
    """A bounded asyncpg pool for one connection credential."""

    dialect = SqlDialect.POSTGRESQL

    def __init__(self, target: ConnectionTarget, *, pool_size: int, statement_seconds: float):
        settings = {
            "statement_timeout": str(max(1, int(statement_seconds * 1000))),
            "application_name": "authgate",
        }
        if target.read_only:
            settings["default_transaction_read_only"] = "on"
        self._pool = asyncpg.create_pool(
            dsn=_dsn(target),
            min_size=0,
            max_size=pool_size,
            max_inactive_connection_lifetime=IDLE_SECONDS,
            server_settings=settings,
            timeout=CONNECT_SECONDS,
            command_timeout=None,
        )
        self._started = False
        self._procedures: dict[str, tuple[bool, list[ProcedureArgument]]] = {}
        # Queries PostgreSQL could not type from the text alone (``CONCAT(@Name, '%')``,
        # ``SELECT @Count``): they run with every placeholder cast to its declared type.
        self._typed_queries: set[str] = set()

    async def run(self, call: SqlCall) -> SqlOutcome:
        """Run the call (see the module docstring)."""
        deadline = Deadline(call.timeout)
        if not self._started:
            await self._pool  # min_size=0: no connection is opened yet
            self._started = True
        try:
            connection = await self._pool.acquire(timeout=deadline.left(call))
        except TimeoutError:
            raise failures.busy(call) from None
        except (OSError, asyncpg.InterfaceError) as error:
            raise failures.unreachable(call, _why(error)) from None
        except asyncpg.PostgresError as error:
            raise failures.from_sqlstate(call, error.sqlstate) from None
        try:
            return await self._run(connection, call, deadline)
        finally:
            await self._pool.release(connection)

    async def _run(self, connection: Any, call: SqlCall, deadline: Deadline) -> SqlOutcome:
        names: tuple[str, ...] = ()
        try:
            if call.method == "query":
                assert call.query is not None
                return await self._typed_query(connection, call, deadline)
            return await self._execute(connection, call, deadline)
        except StatementRefused as refused:
            raise SqlStatementRefused(
                f"The SQL function '{call.function}' cannot run on PostgreSQL as written",
                f"{refused}; fix the query",
            ) from None
        except TimeoutError:
            raise failures.timeout(call) from None
        except asyncpg.DataError as error:
            if call.query is not None:
                names = translate_query(call.query, SqlDialect.POSTGRESQL).names
            raise _invalid_argument(call, names, error) from None
        except asyncpg.PostgresError as error:
            raise failures.from_sqlstate(call, error.sqlstate) from None
        except (OSError, asyncpg.ConnectionDoesNotExistError) as error:
            raise failures.unreachable(call, _why(error)) from None
        except asyncpg.InterfaceError:
            raise SqlStatementFailed(
                f"The SQL function '{call.function}' could not be run on PostgreSQL",
                "the statement does not fit its parameters (a $1 written in the SQL?); write "
                "placeholders as @Name",
            ) from None

    async def _typed_query(self, connection: Any, call: SqlCall, deadline: Deadline) -> SqlOutcome:
        assert call.query is not None
        typed = call.query in self._typed_queries
        statement = translate_query(call.query, SqlDialect.POSTGRESQL, *_casts(call, typed))
        try:
            return await self._query(connection, call, deadline, statement.text, statement.names)
        except (
            asyncpg.IndeterminateDatatypeError,
            asyncpg.AmbiguousParameterError,
            asyncpg.DataError,
        ):
            if typed:
                raise
        if len(self._typed_queries) >= _PROCEDURES_KEPT:
            self._typed_queries.clear()
        self._typed_queries.add(call.query)
        statement = translate_query(call.query, SqlDialect.POSTGRESQL, *_casts(call, True))
        return await self._query(connection, call, deadline, statement.text, statement.names)

    async def _query(
        self,
        connection: Any,
        call: SqlCall,
        deadline: Deadline,
        text: str,
        names: tuple[str, ...],
    ) -> SqlOutcome:
        arguments = [call.values.get(name) for name in names]
        async with connection.transaction():
            cursor = await connection.cursor(text, *arguments, timeout=deadline.left(call))
            records = await cursor.fetch(call.max_rows + 1, timeout=deadline.left(call))
        columns = list(records[0].keys()) if records else []
        return outcome(call, columns, records, result_set=True)

    async def _execute(self, connection: Any, call: SqlCall, deadline: Deadline) -> SqlOutcome:
        assert call.procedure is not None
        is_procedure, arguments = await self._lookup(connection, call, deadline)
        statement = postgres_call(
            call.procedure, is_procedure=is_procedure, arguments=arguments, inputs=call.inputs
        )
        if not is_procedure:
            return await self._function(connection, call, deadline, statement.text, statement.names)
        values = [call.values.get(name) for name in statement.names]
        records = await connection.fetch(statement.text, *values, timeout=deadline.left(call))
        columns = list(records[0].keys()) if records else []
        return outcome(call, [], [], result_set=False, outputs=first_row_outputs(columns, records))

    async def _function(
        self,
        connection: Any,
        call: SqlCall,
        deadline: Deadline,
        text: str,
        names: tuple[str, ...],
    ) -> SqlOutcome:
        found = await self._query(connection, call, deadline, text, names)
        if not call.outputs:
            return found
        # A function's OUT arguments are its result columns: the first row holds them.
        first = found.rows[0] if found.rows else {}
        return SqlOutcome(found.rows, True, output_values(call.outputs, first))

    async def _lookup(
        self, connection: Any, call: SqlCall, deadline: Deadline
    ) -> tuple[bool, list[ProcedureArgument]]:
        assert call.procedure is not None
        known = self._procedures.get(call.procedure)
        if known is not None:
            return known
        schema, name = postgres_lookup_name(call.procedure)
        rows = await connection.fetch(_LOOKUP, name, schema, timeout=deadline.left(call))
        if not rows:
            raise SqlStatementFailed(
                f"The SQL function '{call.function}' names a procedure the database does not have",
                "check 'procedure' (schema and name) against the connection's database",
            )
        is_procedure = rows[0]["prokind"] == "p"
        arguments: list[ProcedureArgument] = []
        if len(rows) == 1:
            names = rows[0]["proargnames"] or []
            modes = rows[0]["proargmodes"] or ["i"] * len(names)
            arguments = [
                ProcedureArgument(arg_name or "", _MODES.get(mode, ArgumentMode.IN))
                for arg_name, mode in zip(names, modes, strict=False)
            ]
        if len(self._procedures) >= _PROCEDURES_KEPT:
            self._procedures.clear()
        self._procedures[call.procedure] = (is_procedure, arguments)
        return is_procedure, arguments

    async def close(self) -> None:
        """Close the pool (waits for calls in progress)."""
        if self._started:
            await self._pool.close()


def _casts(call: SqlCall, everywhere: bool) -> tuple[dict[str, str], dict[str, str]]:
    # First PostgreSQL types each placeholder from where it stands (so a string compares
    # with a uuid column and an int passes to a function taking integer); only a placeholder
    # followed by IS gets its declared type. When that leaves one untyped, or typed so that
    # the value does not fit, every placeholder is cast to its declared type.
    casts = {name: _TYPES[kind] for name, kind in call.input_types.items()}
    return (casts, {}) if everywhere else ({}, casts)


def _dsn(target: ConnectionTarget) -> str:
    host = f"[{target.host}]" if target.host and ":" in target.host else target.host
    login = ""
    if target.user is not None:
        login = quote(target.user, safe="")
        if target.password is not None:
            login += ":" + quote(target.password, safe="")
        login += "@"
    query = f"?{urlencode(target.options)}" if target.options else ""
    return (
        f"postgresql://{login}{host}:{target.port}/{quote(target.database or '', safe='')}{query}"
    )


def _why(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "the database refused the connection"
    if isinstance(error, TimeoutError):
        return "the database did not answer in time"
    return "the connection failed or was lost"


def _invalid_argument(
    call: SqlCall, names: tuple[str, ...], error: asyncpg.DataError
) -> SqlInvalidValue:
    # asyncpg's message quotes the value; only the argument's number is read from it.
    found = _ARGUMENT.search(str(error))
    number = int(found.group(1)) if found else 0
    which = f"parameter '{names[number - 1]}'" if 0 < number <= len(names) else "a parameter"
    return SqlInvalidValue(
        f"The database refused a value sent by the SQL function '{call.function}'",
        f"{which} does not have the type the statement needs there; declare its type to match "
        "the column, or cast the placeholder in the SQL",
        details={"sqlstate": "22000"},
    )
