"""Errors of SQL function calls, each with a stable code.

A caller sees them as ``{"error": {code, status, title, description}}`` like any failed
function call. They name the function, the connection (its name, never its URL) and what
to fix. A database's own error text is never passed on: it may quote the statement, the
server's address or a value of a row. The SQLSTATE (five characters, no data) may be given
in ``details`` so an administrator can look the condition up.
"""

from __future__ import annotations

from typing import Any

from authgate.functions.errors import CallBoundExceeded, FunctionCallFailed


class SqlError(FunctionCallFailed):
    """Base of SQL function call errors (502 unless a subclass says otherwise)."""

    code = "sql_error"

    def __init__(
        self,
        title: str,
        description: str | None = None,
        *,
        status: int | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(
            type(self).status if status is None else status, title, description, details
        )


class SqlConnectionInvalid(SqlError):
    """The stored connection is not a URL authgate can use (the URL is never shown)."""

    code = "sql_connection_invalid"


class SqlConnectionRefused(SqlError):
    """The connection's host or file is not one authgate may open (address policy)."""

    code = "sql_connection_refused"


class SqlConnectionFailed(SqlError):
    """The database could not be reached or refused the login."""

    code = "sql_connection_failed"


class SqlDriverUnavailable(SqlError):
    """The engine's driver is an optional extra that is not installed on this server."""

    code = "sql_driver_unavailable"


class SqlStatementRefused(SqlError):
    """The function's statement cannot run on this engine as written (several statements
    under the engine's own rules, an unterminated literal, a procedure on SQLite)."""

    code = "sql_statement_refused"


class SqlStatementFailed(SqlError):
    """The database refused the statement (syntax, unknown table or procedure, rights)."""

    code = "sql_statement_failed"


class SqlReadOnly(SqlError):
    """The statement tried to write through a connection declared read-only."""

    code = "sql_read_only"
    status = 403


class SqlConstraintViolation(SqlError):
    """The statement broke a constraint (unique, foreign key, not null, check): 409."""

    code = "sql_constraint_violation"
    status = 409


class SqlInvalidValue(SqlError):
    """The database refused a parameter's value (wrong type or out of range): 400."""

    code = "sql_invalid_value"
    status = 400


class SqlBusy(SqlError):
    """Every connection of the pool stayed busy until the call's time ran out: 503."""

    code = "sql_busy"
    status = 503


class SqlRowCapExceeded(CallBoundExceeded):
    """The statement returned more rows than the row cap: an error, never a silent cut,
    because a device replacing its table with a truncated result would lose rows."""

    code = "sql_row_cap_exceeded"


class SqlStatementTimeout(CallBoundExceeded):
    """The statement ran past its timeout and was cancelled: 504."""

    code = "sql_statement_timeout"
