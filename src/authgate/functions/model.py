"""The typed form of a solution and its functions (../FUNCTIONS.md).

The loader turns a solution folder into these values; the engine runs them; a published
version is stored as their JSON document. Expressions stay as the text the author wrote,
leading ``=`` included, so that a definition round-trips unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

EXPRESSION_PREFIX = "="


def is_expression(value: object) -> bool:
    """Whether a definition value is a JSONata expression (a string starting with ``=``)."""
    return isinstance(value, str) and value.startswith(EXPRESSION_PREFIX)


class Provider(StrEnum):
    """Where a function's data comes from."""

    REST = "DATA_PROVIDER_REST"
    SQL = "DATA_PROVIDER_SQL"


class ParameterLocation(StrEnum):
    """Where a parameter's value goes."""

    PATH = "path"
    QUERY = "query"
    HEADER = "header"
    BODY = "body"
    CREDENTIAL = "credential"
    SECRET = "secret"
    INPUT = "input"  # SQL: bound to an @Name placeholder or a procedure argument
    OUTPUT = "output"  # SQL: a stored procedure's output parameter


class ParameterType(StrEnum):
    """The JSON type a parameter's value must have."""

    STRING = "string"
    NUMBER = "number"
    INTEGER = "int"
    BOOLEAN = "boolean"
    OBJECT = "object"
    ARRAY = "array"


class ResponseFormat(StrEnum):
    """How a REST response body is read."""

    JSON = "json"
    TEXT = "text"
    XML = "xml"
    BINARY = "binary"  # ``pdf`` and any other binary format name


@dataclass(frozen=True, slots=True)
class Parameter:
    """One declared parameter.

    ``value`` is the default: a literal, an expression, or — when ``credential`` is set —
    nothing the caller may see or override. ``credential`` names the stored credential that
    fills the parameter (set for ``credential``/``secret`` locations, and when publishing
    binds a ``value`` that names a credential of the organization).
    """

    name: str
    location: ParameterLocation
    type: ParameterType = ParameterType.STRING
    required: bool = False
    value: Any = None
    credential: str | None = None


@dataclass(frozen=True, slots=True)
class Retry:
    """Repeat the request after ``delay_ms``, at most ``max_retries`` times."""

    delay_ms: int
    max_retries: int


@dataclass(frozen=True, slots=True)
class ErrorHandler:
    """One entry of ``error:``; the first whose ``when`` is true decides."""

    when: str | None = None
    title: str | None = None
    description: str | None = None
    details: str | None = None
    retry: Retry | None = None


@dataclass(frozen=True, slots=True)
class Continuation:
    """Paging: while ``when`` is truthy on a page's output, call ``url`` for the next page."""

    when: str
    url: str
    parameters: Mapping[str, Parameter] | None = None


@dataclass(frozen=True, slots=True)
class RestFunction:
    """A ``DATA_PROVIDER_REST`` function."""

    name: str
    source: str
    method: str
    url: str
    format: ResponseFormat = ResponseFormat.JSON
    format_name: str = "json"
    use_local_call: bool = False
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    input_transform: str | None = None
    output_transform: str = "=$"
    records: str | None = None
    continuation: Continuation | None = None
    error_handlers: tuple[ErrorHandler, ...] = ()
    for_rows_with_matching_ids: bool = False
    disable_token_refresh: bool = False

    @property
    def provider(self) -> Provider:
        """Always :attr:`Provider.REST`."""
        return Provider.REST


@dataclass(frozen=True, slots=True)
class SqlFunction:
    """A ``DATA_PROVIDER_SQL`` function (always runs in the cloud)."""

    name: str
    source: str
    connection: str
    method: str  # "query" or "execute"
    query: str | None = None
    procedure: str | None = None
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    output_transform: str = "=$"
    records: str | None = None
    for_rows_with_matching_ids: bool = False

    @property
    def provider(self) -> Provider:
        """Always :attr:`Provider.SQL`."""
        return Provider.SQL


Function = RestFunction | SqlFunction


@dataclass(frozen=True, slots=True)
class Solution:
    """A solution: its name, title, description and functions by name."""

    name: str
    title: str | None = None
    description: str | None = None
    functions: Mapping[str, Function] = field(default_factory=dict)

    def credential_names(self) -> frozenset[str]:
        """Every credential name the solution's functions refer to (never their values)."""
        names: set[str] = set()
        for function in self.functions.values():
            if isinstance(function, SqlFunction):
                names.add(function.connection)
            params = list(function.parameters.values())
            if isinstance(function, RestFunction) and function.continuation is not None:
                params.extend((function.continuation.parameters or {}).values())
            names.update(p.credential for p in params if p.credential is not None)
        return frozenset(names)
