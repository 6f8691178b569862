"""What SQL functions need from the outside: a connection's URL, and a runner.

The engine does no I/O of its own. ``authgate.vault`` resolves a function's ``connection``
(an ``sql_connection`` credential) to its URL, auditing the use; ``authgate.sqlproxy``
implements :class:`SqlRunner` with a bounded pool per connection credential.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from authgate.functions.model import ParameterType
from authgate.identity.deps import Actor


class SqlConnectionValue(Protocol):
    """A connection credential's URL for one call. ``credential_id`` and ``version`` key
    the pool: a replaced credential has a new version, and its pool is recycled."""

    @property
    def credential_id(self) -> str:
        """The stored credential's id."""
        ...

    @property
    def version(self) -> int:
        """The credential's current version."""
        ...

    @property
    def url(self) -> str:
        """The connection URL, password included: never logged, never returned."""
        ...


class SqlConnectionResolver(Protocol):
    """Connection credentials for one call (organization, solution, function, user bound)."""

    async def sql_connection(self, name: str) -> SqlConnectionValue:
        """The named ``sql_connection`` credential; ``NotFound`` or ``CredentialNotUsable``."""
        ...


class SqlConnectionResolvers(Protocol):
    """Builds the connection resolver for one call, bound to who calls what (audit)."""

    def for_call(
        self, *, org_id: str, solution: str, function: str, actor: Actor
    ) -> SqlConnectionResolver:
        """A resolver that audits each use as this call's."""
        ...


@dataclass(frozen=True, slots=True)
class SqlLimits:
    """Bounds of one SQL call (FUNCTIONS.md defaults: 30 s, 10,000 rows)."""

    statement_seconds: float = 30.0
    max_rows: int = 10_000


@dataclass(frozen=True, slots=True)
class SqlCall:
    """One statement to run: what the function says, with its inputs bound by name.

    ``values`` holds every input parameter (``None`` for SQL ``NULL``), already in its
    driver type, and ``input_types`` their declared types; ``outputs`` are the declared
    output parameters and their types.
    """

    function: str
    connection: str
    method: str
    query: str | None
    procedure: str | None
    values: Mapping[str, Any] = field(repr=False)
    inputs: tuple[str, ...]
    outputs: tuple[tuple[str, ParameterType], ...]
    timeout: float
    max_rows: int
    input_types: Mapping[str, ParameterType] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SqlOutcome:
    """What the database answered: the rows of the (first) result set as records, whether
    there was a result set at all, and the output parameters' values when declared."""

    rows: list[dict[str, Any]] = field(repr=False)
    result_set: bool
    outputs: dict[str, Any] | None = field(default=None, repr=False)


class SqlRunner(Protocol):
    """Runs one statement through the pool of a connection credential."""

    async def run(self, connection: SqlConnectionValue, call: SqlCall) -> SqlOutcome:
        """The outcome, or an :class:`authgate.functions.sql_errors.SqlError`."""
        ...
