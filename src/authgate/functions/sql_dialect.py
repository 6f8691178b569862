"""The SQL dialects authgate speaks, and ``@Name`` placeholders in each driver's paramstyle.

FUNCTIONS.md, "SQL functions": ``@Name`` placeholders are bound as driver parameters, never
spliced into the SQL text. A function's query is written once, with ``@Name`` tokens; at
call time it is scanned with the engine's own lexical rules and each placeholder becomes
the marker its driver binds (PEP 249 paramstyles):

=============  ==========  =====================  ===================================
engine         driver      marker                 a repeated name
=============  ==========  =====================  ===================================
PostgreSQL     asyncpg     ``$1`` (numeric)       reuses its number
MySQL/MariaDB  asyncmy     ``%s`` (format)        is bound again; ``%`` becomes ``%%``
SQLite         sqlite3     ``?1`` (numbered)      reuses its number
SQL Server     pyodbc      ``?`` (qmark)          is bound again
=============  ==========  =====================  ===================================

Pure: no I/O. The text around the placeholders is kept as written (apart from MySQL's
``%`` doubling, which its driver undoes when it formats in the escaped values).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from authgate.functions.validation_sql_text import LexicalRules, scan_sql


class SqlDialect(StrEnum):
    """A database engine family."""

    POSTGRESQL = "postgresql"
    MYSQL = "mysql"
    SQLITE = "sqlite"
    MSSQL = "mssql"

    @property
    def label(self) -> str:
        """The engine's name as people write it."""
        return _TITLES[self]


_TITLES = {
    SqlDialect.POSTGRESQL: "PostgreSQL",
    SqlDialect.MYSQL: "MySQL/MariaDB",
    SqlDialect.SQLITE: "SQLite",
    SqlDialect.MSSQL: "SQL Server",
}

LEXICAL_RULES = {
    # ``[`` is an array subscript in PostgreSQL, and a backtick is no quote there.
    SqlDialect.POSTGRESQL: LexicalRules(quotes="'\"", escape_strings=True),
    SqlDialect.MYSQL: LexicalRules(
        quotes="'\"`",
        backslash_escapes=True,
        hash_comments=True,
        dash_comment_needs_space=True,
        dollar_quotes=False,
        nested_comments=False,
    ),
    SqlDialect.SQLITE: LexicalRules(quotes="'\"[`", dollar_quotes=False, nested_comments=False),
    SqlDialect.MSSQL: LexicalRules(quotes="'\"[", dollar_quotes=False),
}


_IS = re.compile(r"\s+IS\b", re.IGNORECASE)


class StatementRefused(ValueError):
    """The query cannot run on this engine as written (the message says why)."""


@dataclass(frozen=True, slots=True)
class DriverStatement:
    """SQL text in the driver's paramstyle and, in binding order, the parameter each
    bound value comes from (a name may appear more than once)."""

    text: str
    names: tuple[str, ...]


def translate_query(
    query: str,
    dialect: SqlDialect,
    casts: Mapping[str, str] | None = None,
    null_test_casts: Mapping[str, str] | None = None,
) -> DriverStatement:
    """``query`` with its ``@Name`` placeholders as ``dialect``'s driver markers.

    PostgreSQL types each placeholder from where it stands, and one it cannot type is
    refused. ``casts`` names a type written after every placeholder of a parameter
    (``$1::bigint``); ``null_test_casts`` one written only where the placeholder is directly
    followed by ``IS``, as in T-SQL's familiar ``@City IS NULL OR city = @City``.

    Raises :class:`StatementRefused` when, under the engine's own lexical rules, the text
    is more than one statement or has an unterminated literal or comment.
    """
    scan = scan_sql(query, LEXICAL_RULES[dialect])
    if scan.problem is not None:
        raise StatementRefused(f"read with {dialect.label}'s rules, {scan.problem}")
    if scan.several_statements:
        raise StatementRefused(
            f"read with {dialect.label}'s rules, the query is more than one statement"
        )
    pieces: list[str] = []
    names: list[str] = []
    numbers: dict[str, int] = {}
    last = 0
    for placeholder in scan.occurrences:
        pieces.append(_plain(query[last : placeholder.start], dialect))
        pieces.append(_marker(placeholder.name, dialect, numbers, names))
        cast = (casts or {}).get(placeholder.name)
        if cast is None and _IS.match(query, placeholder.end):
            cast = (null_test_casts or {}).get(placeholder.name)
        if cast is not None:
            pieces.append(f"::{cast}")
        last = placeholder.end
    pieces.append(_plain(query[last:], dialect))
    return DriverStatement("".join(pieces), tuple(names))


def _plain(text: str, dialect: SqlDialect) -> str:
    # asyncmy formats the values in with ``text % args``: a literal ``%`` must be doubled.
    return text.replace("%", "%%") if dialect is SqlDialect.MYSQL else text


def _marker(name: str, dialect: SqlDialect, numbers: dict[str, int], names: list[str]) -> str:
    if dialect is SqlDialect.MYSQL:
        names.append(name)
        return "%s"
    if dialect is SqlDialect.MSSQL:
        names.append(name)
        return "?"
    number = numbers.get(name)
    if number is None:
        names.append(name)
        number = numbers[name] = len(names)
    return f"${number}" if dialect is SqlDialect.POSTGRESQL else f"?{number}"


def marker(dialect: SqlDialect, number: int) -> str:
    """The driver's marker for the ``number``-th bound value (1-based)."""
    if dialect is SqlDialect.POSTGRESQL:
        return f"${number}"
    if dialect is SqlDialect.SQLITE:
        return f"?{number}"
    return "%s" if dialect is SqlDialect.MYSQL else "?"
