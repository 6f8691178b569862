"""Database failures as authgate's stable errors, without a word of the driver's message.

Drivers' messages quote the statement, values of rows ("Key (email)=(…) already exists"),
the server's address or the login's user name, so none is passed on. What a caller and an
administrator get instead: the function's name, the connection's name, what happened in
words, what to change, and the SQLSTATE (a five-character condition code, no data).
"""

from __future__ import annotations

from authgate.functions.errors import FunctionCallFailed
from authgate.functions.sql_errors import (
    SqlBusy,
    SqlConnectionFailed,
    SqlConstraintViolation,
    SqlInvalidValue,
    SqlReadOnly,
    SqlRowCapExceeded,
    SqlStatementFailed,
    SqlStatementTimeout,
)
from authgate.functions.sql_ports import SqlCall

_STATEMENT_HINTS = {
    "42601": "the database found a syntax error in the function's SQL; fix the statement",
    "42P01": "the statement names a table or view the database does not have; check the name "
    "and the connection's database",
    "42S02": "the statement names a table or view the database does not have; check the name "
    "and the connection's database",
    "42703": "the statement names a column the table does not have; check the column names",
    "42S22": "the statement names a column the table does not have; check the column names",
    "42883": "the database has no procedure or function of that name taking these parameters; "
    "check 'procedure' and the parameter names",
    "42000": "the database refused the statement (syntax or access); check the function's SQL",
    "42501": "the connection's database user lacks a permission this statement needs; grant it",
    "42P18": "the database cannot tell the type of a placeholder; add a cast such as "
    "CAST(@Name AS text)",
    "0A000": "the database does not support what the statement asks; change the statement",
}


def from_sqlstate(call: SqlCall, sqlstate: str | None) -> FunctionCallFailed:
    """The error for a statement the database refused with ``sqlstate``."""
    state = (sqlstate or "").upper()[:5]
    details = {"sqlstate": state} if state else None
    name = call.function
    if state.startswith("23"):
        return SqlConstraintViolation(
            f"The SQL function '{name}' broke a database constraint",
            "the database refused the change (unique, foreign key, not null or check); "
            "send other values",
            details=details,
        )
    if state.startswith("22"):
        return SqlInvalidValue(
            f"The database refused a value sent by the SQL function '{name}'",
            "a parameter's value has the wrong type, length or range for where the statement "
            "uses it; send a value the database accepts",
            details=details,
        )
    if state in ("25006", "25000"):
        return read_only(call, details)
    if state == "57014":
        return timeout(call)
    if state.startswith(("08", "28", "3D", "53", "57P")):
        return SqlConnectionFailed(
            f"The database of connection '{call.connection}' is not available",
            "the database ended the connection or refused it; try again later, or check the "
            "stored connection",
            details=details,
        )
    return SqlStatementFailed(
        f"The database refused the statement of the SQL function '{name}'",
        _STATEMENT_HINTS.get(
            state,
            "check the function's SQL and parameters against the database"
            + (f" (SQLSTATE {state})" if state else ""),
        ),
        details=details,
    )


def read_only(call: SqlCall, details: dict[str, str] | None = None) -> SqlReadOnly:
    """The statement tried to write through a read-only connection."""
    return SqlReadOnly(
        f"The SQL function '{call.function}' tried to write through a read-only connection",
        f"the connection '{call.connection}' is declared read_only=true; use a connection "
        "that may write, or only read",
        details=details,
    )


def timeout(call: SqlCall) -> SqlStatementTimeout:
    """The statement ran out of time and was cancelled."""
    return SqlStatementTimeout(
        "time",
        504,
        f"The SQL function '{call.function}' passed its statement timeout of "
        f"{call.timeout:.3g} seconds",
        "the statement was cancelled; make it faster, ask for less, or raise "
        "AUTHGATE_SQL_STATEMENT_TIMEOUT",
    )


def row_cap(call: SqlCall) -> SqlRowCapExceeded:
    """The statement returned more rows than the row cap allows."""
    return SqlRowCapExceeded(
        "rows",
        502,
        f"The SQL function '{call.function}' returned more than {call.max_rows} rows",
        "narrow the query (a WHERE clause, LIMIT or paging parameters), or raise "
        "AUTHGATE_SQL_MAX_ROWS",
    )


def busy(call: SqlCall) -> SqlBusy:
    """No connection of the pool became free in time."""
    return SqlBusy(
        f"Every connection of '{call.connection}' stayed busy",
        "too many calls use this connection at once; try again shortly, or raise "
        "AUTHGATE_SQL_POOL_SIZE",
    )


def unreachable(call: SqlCall, why: str) -> SqlConnectionFailed:
    """The database could not be reached or refused the login (``why`` has no data)."""
    return SqlConnectionFailed(
        f"The database of connection '{call.connection}' could not be reached",
        f"{why}; check the stored connection and that the database is running",
    )
