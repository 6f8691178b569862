"""The statement that calls a stored procedure (``method: execute``), per engine.

FUNCTIONS.md: "``method: execute`` with ``procedure: name`` calls a stored procedure with
the input parameters; ``location: output`` parameters come back in the output." Input
values are always bound; the procedure's name was checked at publish time and is quoted
here for the engine, and parameter names are letters, digits and ``_`` only.

* PostgreSQL: a procedure is ``CALL name(arg => $1, out_arg => NULL)`` and answers one row
  of its OUT/INOUT values; a function is ``SELECT * FROM name(arg => $1)``. Arguments are
  named, so the order in the function file does not matter.
* MySQL/MariaDB: ``CALL name(%s, @out, NULL)`` in the procedure's own argument order (read
  from ``information_schema``), then ``SELECT @out`` reads the output parameters.
* SQL Server: ``EXEC name @Arg = ?, @Out = @o1 OUTPUT`` in a batch that declares the output
  variables and selects them last.

Pure: no I/O. The adapter looks the procedure up and runs what these functions build.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from authgate.functions.model import ParameterType
from authgate.functions.sql_dialect import DriverStatement, SqlDialect

_PART = re.compile(r"\[([^\[\]]{1,128})\]|([A-Za-z_#][A-Za-z0-9_@$#]{0,127})")
_PLAIN_POSTGRES = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
OUTPUT_VARIABLE = "@__authgate_out"
"""Prefix of the session variables (MySQL) and batch variables (SQL Server) that receive
output parameters; ``@__authgate_out1`` and on."""


class ArgumentMode(StrEnum):
    """How a procedure argument passes its value (PostgreSQL ``proargmodes``, MySQL
    ``PARAMETER_MODE``)."""

    IN = "IN"
    OUT = "OUT"
    INOUT = "INOUT"
    VARIADIC = "VARIADIC"
    TABLE = "TABLE"  # a column of a PostgreSQL function's RETURNS TABLE


@dataclass(frozen=True, slots=True)
class ProcedureArgument:
    """One argument of a stored procedure as the database declares it."""

    name: str
    mode: ArgumentMode


@dataclass(frozen=True, slots=True)
class NamePart:
    """One dot-separated part of a procedure name; ``quoted`` when written ``[like this]``."""

    text: str
    quoted: bool


def name_parts(procedure: str) -> list[NamePart]:
    """The parts of a procedure name as validated at publish (``db.schema.name`` at most)."""
    parts: list[NamePart] = []
    at = 0
    while True:
        found = _PART.match(procedure, at)
        if found is None:
            raise ValueError("not a procedure name")
        bracketed, plain = found.groups()
        parts.append(NamePart(bracketed, True) if bracketed is not None else NamePart(plain, False))
        at = found.end()
        if at == len(procedure):
            return parts
        if procedure[at] != ".":
            raise ValueError("not a procedure name")
        at += 1


def postgres_lookup_name(procedure: str) -> tuple[str | None, str]:
    """``(schema, name)`` as PostgreSQL stores them: plain parts fold to lower case."""
    parts = [p.text if p.quoted else p.text.lower() for p in name_parts(procedure)]
    return (parts[-2] if len(parts) > 1 else None), parts[-1]


def mysql_lookup_name(procedure: str) -> tuple[str | None, str]:
    """``(database, name)`` of a MySQL procedure (``db.name``; names compare without case)."""
    parts = [p.text for p in name_parts(procedure)]
    return (parts[-2] if len(parts) > 1 else None), parts[-1]


def quoted_name(procedure: str, dialect: SqlDialect) -> str:
    """The procedure's name quoted for ``dialect`` (PostgreSQL keeps plain parts plain, so
    that they fold to lower case as the author expects)."""
    quoted = []
    for part in name_parts(procedure):
        if dialect is SqlDialect.POSTGRESQL:
            plain = not part.quoted and _PLAIN_POSTGRES.fullmatch(part.text)
            quoted.append(part.text if plain else '"' + part.text.replace('"', '""') + '"')
        elif dialect is SqlDialect.MYSQL:
            quoted.append("`" + part.text.replace("`", "``") + "`")
        else:
            quoted.append("[" + part.text.replace("]", "]]") + "]")
    return ".".join(quoted)


def _by_lower(names: Sequence[str]) -> dict[str, str]:
    return {name.lower(): name for name in names}


def postgres_call(
    procedure: str,
    *,
    is_procedure: bool,
    arguments: Sequence[ProcedureArgument],
    inputs: Sequence[str],
) -> DriverStatement:
    """``CALL`` a procedure or ``SELECT * FROM`` a function, arguments named.

    Every OUT argument of a procedure gets ``NULL`` (PostgreSQL 14 wants them written);
    inputs the function declares are bound; other IN arguments keep their defaults.
    """
    declared = _by_lower(inputs)
    names: list[str] = []
    written: list[str] = []
    for argument in arguments:
        key = argument.name.lower()
        given = declared.pop(key, None) if key else None
        if given is not None and argument.mode in (ArgumentMode.IN, ArgumentMode.INOUT):
            names.append(given)
            written.append(f"{_pg_argument(argument.name)} => ${len(names)}")
        elif is_procedure and argument.mode in (ArgumentMode.OUT, ArgumentMode.INOUT):
            written.append(f"{_pg_argument(argument.name)} => NULL")
    # Inputs the lookup did not list (an overloaded name): named all the same, so the
    # database picks the overload or says which argument it does not know.
    for given in declared.values():
        names.append(given)
        written.append(f"{_pg_argument(given.lower())} => ${len(names)}")
    target = quoted_name(procedure, SqlDialect.POSTGRESQL)
    # The name is quoted for the engine and checked at publish; the values are bound.
    call = f"CALL {target}" if is_procedure else f"SELECT * FROM {target}"  # noqa: S608
    return DriverStatement(f"{call}({', '.join(written)})", tuple(names))


def _pg_argument(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True, slots=True)
class MysqlCall:
    """Statements of a MySQL procedure call: set INOUT inputs, ``CALL``, read outputs."""

    setup: tuple[DriverStatement, ...]
    call: DriverStatement
    read_outputs: str | None
    """``SELECT @__authgate_out1 AS `Name`, …`` when output parameters are declared."""


def mysql_call(
    procedure: str,
    *,
    arguments: Sequence[ProcedureArgument],
    inputs: Sequence[str],
    outputs: Sequence[str],
) -> MysqlCall:
    """The call in the procedure's own argument order; undeclared IN arguments get NULL."""
    given_in = _by_lower(inputs)
    given_out = _by_lower(outputs)
    setup: list[DriverStatement] = []
    written: list[str] = []
    names: list[str] = []
    selected: list[str] = []
    for number, argument in enumerate(arguments, 1):
        key = argument.name.lower()
        variable = f"{OUTPUT_VARIABLE}{number}"
        if argument.mode is ArgumentMode.IN:
            if key in given_in:
                names.append(given_in[key])
                written.append("%s")
            else:
                written.append("NULL")
            continue
        if argument.mode is ArgumentMode.INOUT:
            value = [given_in[key]] if key in given_in else []
            setup.append(
                DriverStatement(f"SET {variable} = {'%s' if value else 'NULL'}", tuple(value))
            )
        written.append(variable)
        if key in given_out:
            selected.append(f"{variable} AS `{given_out[key]}`")
    call = DriverStatement(
        f"CALL {quoted_name(procedure, SqlDialect.MYSQL)}({', '.join(written)})", tuple(names)
    )
    read = f"SELECT {', '.join(selected)}" if selected else None
    return MysqlCall(tuple(setup), call, read)


MSSQL_TYPES: Mapping[ParameterType, str] = {
    ParameterType.STRING: "nvarchar(max)",
    ParameterType.NUMBER: "float",
    ParameterType.INTEGER: "bigint",
    ParameterType.BOOLEAN: "bit",
    ParameterType.OBJECT: "nvarchar(max)",
    ParameterType.ARRAY: "nvarchar(max)",
}


def mssql_call(
    procedure: str, *, inputs: Sequence[str], outputs: Sequence[tuple[str, ParameterType]]
) -> DriverStatement:
    """An ``EXEC`` batch: inputs bound by name, outputs into declared variables that the
    batch selects last (one row, columns named after the output parameters)."""
    lines = ["SET NOCOUNT ON;"]
    variables = [
        f"{OUTPUT_VARIABLE}{n} {MSSQL_TYPES[kind]}" for n, (_, kind) in enumerate(outputs, 1)
    ]
    if variables:
        lines.append(f"DECLARE {', '.join(variables)};")
    arguments = [f"@{name} = ?" for name in inputs]
    arguments += [
        f"@{name} = {OUTPUT_VARIABLE}{n} OUTPUT" for n, (name, _) in enumerate(outputs, 1)
    ]
    call = f"EXEC {quoted_name(procedure, SqlDialect.MSSQL)}"
    lines.append(f"{call} {', '.join(arguments)};" if arguments else f"{call};")
    if outputs:
        columns = [f"{OUTPUT_VARIABLE}{n} AS [{name}]" for n, (name, _) in enumerate(outputs, 1)]
        lines.append(f"SELECT {', '.join(columns)};")
    return DriverStatement("\n".join(lines), tuple(inputs))
