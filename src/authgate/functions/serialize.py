"""A solution as a JSON document: the stored form of a published version, and what a
device receives (``GET /v1/solutions/{solution}/definition``).

:func:`solution_to_document` and :func:`solution_from_document` round-trip exactly. The
document always has every key, in a fixed order, so equal solutions give equal documents.
:func:`public_definition` is for devices: everything a ``useLocalCall`` function needs to
run there, credential *names* only (the model holds no values), and nothing of a SQL
function's statement, procedure or connection, nor of where a cloud function sends to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from authgate.functions.errors import InvalidSolutionDocument
from authgate.functions.model import (
    Continuation,
    ErrorHandler,
    Function,
    Parameter,
    ParameterLocation,
    ParameterType,
    Provider,
    ResponseFormat,
    RestFunction,
    Retry,
    Solution,
    SqlFunction,
)

DOCUMENT_FORMAT = 1
"""The version of the document's shape; a reader refuses shapes it does not know."""

_T = TypeVar("_T")


def solution_to_document(solution: Solution) -> dict[str, Any]:
    """The JSON-compatible document of ``solution``."""
    return {
        "format": DOCUMENT_FORMAT,
        "name": solution.name,
        "title": solution.title,
        "description": solution.description,
        "functions": {name: _function(function) for name, function in solution.functions.items()},
    }


def public_definition(solution: Solution) -> dict[str, Any]:
    """What a member's device receives: functions as it may use them, no secrets, no SQL."""
    return {
        "format": DOCUMENT_FORMAT,
        "name": solution.name,
        "title": solution.title,
        "description": solution.description,
        "functions": {
            name: _public_function(function) for name, function in solution.functions.items()
        },
    }


def solution_from_document(document: Mapping[str, Any]) -> Solution:
    """The solution stored as ``document``; :class:`InvalidSolutionDocument` if it is not one."""
    reader = _Reader(document, "document")
    if reader.get("format", int) != DOCUMENT_FORMAT:
        raise InvalidSolutionDocument("the stored solution document has an unknown format")
    functions = {
        name: _read_function(name, _Reader(value, f"functions.{name}"))
        for name, value in reader.get("functions", dict).items()
    }
    return Solution(
        name=reader.get("name", str),
        title=reader.optional("title", str),
        description=reader.optional("description", str),
        functions=functions,
    )


def _function(function: Function) -> dict[str, Any]:
    if isinstance(function, SqlFunction):
        return {
            "provider": Provider.SQL.value,
            "source": function.source,
            "connection": function.connection,
            "method": function.method,
            "query": function.query,
            "procedure": function.procedure,
            "parameters": _parameters(function.parameters),
            "outputTransform": function.output_transform,
            "records": function.records,
            "forRowsWithMatchingIds": function.for_rows_with_matching_ids,
        }
    return {
        "provider": Provider.REST.value,
        "source": function.source,
        "method": function.method,
        "url": function.url,
        "format": function.format.value,
        "formatName": function.format_name,
        "useLocalCall": function.use_local_call,
        "parameters": _parameters(function.parameters),
        "inputTransform": function.input_transform,
        "outputTransform": function.output_transform,
        "records": function.records,
        "continuation": _continuation(function.continuation),
        "error": [_handler(handler) for handler in function.error_handlers],
        "forRowsWithMatchingIds": function.for_rows_with_matching_ids,
        "disableTokenRefresh": function.disable_token_refresh,
    }


def _parameters(parameters: Mapping[str, Parameter]) -> dict[str, Any]:
    return {
        name: {
            "location": parameter.location.value,
            "type": parameter.type.value,
            "required": parameter.required,
            "value": parameter.value,
            "credential": parameter.credential,
        }
        for name, parameter in parameters.items()
    }


def _continuation(continuation: Continuation | None) -> dict[str, Any] | None:
    if continuation is None:
        return None
    parameters = continuation.parameters
    return {
        "when": continuation.when,
        "url": continuation.url,
        "parameters": None if parameters is None else _parameters(parameters),
    }


def _handler(handler: ErrorHandler) -> dict[str, Any]:
    retry = handler.retry
    return {
        "when": handler.when,
        "title": handler.title,
        "description": handler.description,
        "details": handler.details,
        "retry": None
        if retry is None
        else {"delayMs": retry.delay_ms, "maxRetries": retry.max_retries},
    }


def _public_function(function: Function) -> dict[str, Any]:
    if isinstance(function, RestFunction) and function.use_local_call:
        document = _function(function)
        del document["source"]
        document["parameters"] = _public_parameters(function.parameters)
        continuation = function.continuation
        if continuation is not None and continuation.parameters is not None:
            document["continuation"]["parameters"] = _public_parameters(continuation.parameters)
        return document
    public: dict[str, Any] = {"provider": function.provider.value}
    if isinstance(function, RestFunction):
        public["useLocalCall"] = False
        public["format"] = function.format.value
        public["formatName"] = function.format_name
    public["parameters"] = _public_parameters(function.parameters)
    public["forRowsWithMatchingIds"] = function.for_rows_with_matching_ids
    return public


def _public_parameters(parameters: Mapping[str, Parameter]) -> dict[str, Any]:
    public: dict[str, Any] = {}
    for name, parameter in parameters.items():
        entry: dict[str, Any] = {
            "location": parameter.location.value,
            "type": parameter.type.value,
            "required": parameter.required,
        }
        if parameter.credential is not None:
            entry["credential"] = parameter.credential
        else:
            entry["value"] = parameter.value
        public[name] = entry
    return public


def _read_function(name: str, reader: _Reader) -> Function:
    provider = reader.get("provider", str)
    parameters = _read_parameters(reader.get("parameters", dict), f"{reader.where}.parameters")
    if provider == Provider.SQL:
        return SqlFunction(
            name=name,
            source=reader.get("source", str),
            connection=reader.get("connection", str),
            method=reader.get("method", str),
            query=reader.optional("query", str),
            procedure=reader.optional("procedure", str),
            parameters=parameters,
            output_transform=reader.get("outputTransform", str),
            records=reader.optional("records", str),
            for_rows_with_matching_ids=reader.get("forRowsWithMatchingIds", bool),
        )
    if provider != Provider.REST:
        raise InvalidSolutionDocument(f"{reader.where}: unknown provider")
    continuation = reader.optional("continuation", dict)
    return RestFunction(
        name=name,
        source=reader.get("source", str),
        method=reader.get("method", str),
        url=reader.get("url", str),
        format=_enum(ResponseFormat, reader.get("format", str), reader.where),
        format_name=reader.get("formatName", str),
        use_local_call=reader.get("useLocalCall", bool),
        parameters=parameters,
        input_transform=reader.optional("inputTransform", str),
        output_transform=reader.get("outputTransform", str),
        records=reader.optional("records", str),
        continuation=None
        if continuation is None
        else _read_continuation(_Reader(continuation, f"{reader.where}.continuation")),
        error_handlers=tuple(
            _read_handler(_Reader(item, f"{reader.where}.error"))
            for item in reader.get("error", list)
        ),
        for_rows_with_matching_ids=reader.get("forRowsWithMatchingIds", bool),
        disable_token_refresh=reader.get("disableTokenRefresh", bool),
    )


def _read_parameters(document: Mapping[str, Any], where: str) -> dict[str, Parameter]:
    parameters: dict[str, Parameter] = {}
    for name, value in document.items():
        reader = _Reader(value, f"{where}.{name}")
        parameters[name] = Parameter(
            name=name,
            location=_enum(ParameterLocation, reader.get("location", str), reader.where),
            type=_enum(ParameterType, reader.get("type", str), reader.where),
            required=reader.get("required", bool),
            value=reader.any("value"),
            credential=reader.optional("credential", str),
        )
    return parameters


def _read_continuation(reader: _Reader) -> Continuation:
    parameters = reader.optional("parameters", dict)
    return Continuation(
        when=reader.get("when", str),
        url=reader.get("url", str),
        parameters=None
        if parameters is None
        else _read_parameters(parameters, f"{reader.where}.parameters"),
    )


def _read_handler(reader: _Reader) -> ErrorHandler:
    retry = reader.optional("retry", dict)
    return ErrorHandler(
        when=reader.optional("when", str),
        title=reader.optional("title", str),
        description=reader.optional("description", str),
        details=reader.optional("details", str),
        retry=None if retry is None else _read_retry(_Reader(retry, f"{reader.where}.retry")),
    )


def _read_retry(reader: _Reader) -> Retry:
    return Retry(delay_ms=reader.get("delayMs", int), max_retries=reader.get("maxRetries", int))


_E = TypeVar("_E", ParameterLocation, ParameterType, ResponseFormat)


def _enum(kind: type[_E], value: str, where: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        raise InvalidSolutionDocument(f"{where}: unknown {kind.__name__}") from None


class _Reader:
    """Typed access to one object of a stored document; any mismatch is an
    :class:`InvalidSolutionDocument` naming where."""

    def __init__(self, document: object, where: str) -> None:
        if not isinstance(document, Mapping):
            raise InvalidSolutionDocument(f"{where}: expected an object")
        self.document = document
        self.where = where

    def any(self, key: str) -> Any:
        if key not in self.document:
            raise InvalidSolutionDocument(f"{self.where}.{key}: missing")
        return self.document[key]

    def get(self, key: str, kind: type[_T]) -> _T:
        value = self.any(key)
        # bool is an int to Python; a stored flag must never pass for a number, or back.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise InvalidSolutionDocument(f"{self.where}.{key}: expected {kind.__name__}")
        return value

    def optional(self, key: str, kind: type[_T]) -> _T | None:
        if self.any(key) is None:
            return None
        return self.get(key, kind)
