"""Values crossing the SQL boundary: parameters into driver types, columns into JSON.

Into the database, each value has its parameter's declared type: ``int`` becomes a Python
``int``, ``number`` an ``int`` or ``float``, ``boolean`` a ``bool``, ``string`` a ``str``,
``object`` and ``array`` their JSON text. A missing optional parameter is SQL ``NULL``.

Out of the database, every column value becomes JSON: dates and times ISO 8601 text,
decimals a number when a double holds them exactly (else their text, so that no digit is
lost), integers beyond 64 bits their text, binary data base64, UUIDs and anything else
their text. Pure: no I/O.
"""

from __future__ import annotations

import base64
import datetime
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from authgate.functions.errors import InvalidFunctionArguments
from authgate.functions.model import ParameterType

_INT64_MIN = -(2**63)
_UINT64_MAX = 2**64 - 1
_PLAIN = (str, bool, float, type(None))


def bind_value(name: str, kind: ParameterType, value: Any) -> Any:
    """``value`` as the driver should bind it for a parameter of type ``kind``.

    Callers' values were type-checked already; defaults written in the function file may
    be of another JSON type and are converted here, or refused naming the parameter.
    """
    if value is None:
        return None
    try:
        return _convert(kind, value)
    except (TypeError, ValueError, ArithmeticError):
        raise InvalidFunctionArguments(
            f"parameter {name!r} must be {kind.value}; its value cannot be read as one"
        ) from None


def _convert(kind: ParameterType, value: Any) -> Any:
    if kind is ParameterType.STRING:
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        return _json_text(value)
    if kind is ParameterType.INTEGER:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError("not an integer")
        return int(value)
    if kind is ParameterType.NUMBER:
        if isinstance(value, bool):
            raise ValueError("not a number")
        if isinstance(value, int | float):
            return value
        number = float(value)
        return int(number) if number.is_integer() and "." not in str(value) else number
    if kind is ParameterType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError("not a boolean")
    return value if isinstance(value, str) else _json_text(value)


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_value(value: Any) -> Any:
    """A column value as JSON (see the module docstring)."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, int):
        return value if _INT64_MIN <= value <= _UINT64_MAX else str(value)
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    return str(value)


def _decimal(value: Decimal) -> Any:
    if not value.is_finite():
        return str(value)
    if value == value.to_integral_value() and abs(value) < 2**53:
        return int(value)
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else str(value)


def shape_rows(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """Rows as records: one object per row, keyed by column name (a later column of the
    same name wins, as in a JSON object)."""
    shaped: list[dict[str, Any]] = []
    plain = _PLAIN
    for row in rows:
        record: dict[str, Any] = {}
        for column, value in zip(columns, row, strict=False):
            record[column] = value if isinstance(value, plain) else json_value(value)
        shaped.append(record)
    return shaped


def output_values(
    declared: Sequence[tuple[str, ParameterType]], found: Mapping[str, Any]
) -> dict[str, Any]:
    """Declared output parameters by name from what the database answered (matched
    without case); a missing one is ``null``. A ``boolean`` output stored as 0/1 (MySQL,
    SQLite, SQL Server ``bit``) comes back as ``true``/``false``."""
    lower = {key.lower(): value for key, value in found.items()}
    outputs: dict[str, Any] = {}
    for name, kind in declared:
        value = json_value(lower.get(name.lower()))
        if kind is ParameterType.BOOLEAN and isinstance(value, int) and not isinstance(value, bool):
            value = bool(value)
        outputs[name] = value
    return outputs
