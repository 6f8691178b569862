"""What every engine adapter offers, and what they share: deadlines and the row cap.

An engine holds the pool of one connection credential (one version of it) and runs calls
through it. It binds every value as a driver parameter, runs exactly one statement of the
function's (translated by :mod:`authgate.functions.sql_dialect`), reads at most one row
more than the cap, and maps its driver's errors to :mod:`authgate.functions.sql_errors`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Protocol

from authgate.functions.sql_dialect import SqlDialect
from authgate.functions.sql_ports import SqlCall, SqlOutcome
from authgate.functions.sql_values import output_values, shape_rows
from authgate.sqlproxy import failures

CONNECT_SECONDS = 10.0
"""How long opening one database connection may take (also bounded by the call's time)."""
IDLE_SECONDS = 300.0
"""Idle connections are closed after this long."""


class Engine(Protocol):
    """A pool of connections to one database, and the calls run through it."""

    @property
    def dialect(self) -> SqlDialect:
        """The engine family."""
        ...

    async def run(self, call: SqlCall) -> SqlOutcome:
        """Run the call's one statement."""
        ...

    async def close(self) -> None:
        """Close the pool: idle connections now, busy ones when their call ends."""
        ...


class Deadline:
    """The seconds left of a call's statement timeout."""

    __slots__ = ("_end",)

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds

    def left(self, call: SqlCall) -> float:
        """Seconds left; the timeout error when none are."""
        remaining = self._end - time.monotonic()
        if remaining <= 0:
            raise failures.timeout(call)
        return remaining


def capped(call: SqlCall, rows: Sequence[Any]) -> None:
    """Refuse a result with more rows than the cap (the engine read at most one more)."""
    if len(rows) > call.max_rows:
        raise failures.row_cap(call)


def outcome(
    call: SqlCall,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    result_set: bool,
    outputs: dict[str, Any] | None = None,
) -> SqlOutcome:
    """The outcome of a call whose rows were read (and checked against the cap)."""
    capped(call, rows)
    declared = call.outputs
    return SqlOutcome(
        rows=shape_rows(columns, rows),
        result_set=result_set,
        outputs=output_values(declared, outputs or {}) if declared else None,
    )


def first_row_outputs(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """The columns of the first row by name (a procedure's OUT values), or nothing."""
    return dict(zip(columns, rows[0], strict=False)) if rows else {}
