"""The functions a device runs itself, read back from the definition it received.

:func:`authgate.functions.serialize.public_definition` sends a ``useLocalCall`` function
whole, minus its source path and with credential parameters by name only; this module turns
those entries back into :class:`RestFunction` values for the engine, with the same reader
that reads stored versions, so the device and the server run the very same definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authgate.functions.errors import InvalidSolutionDocument
from authgate.functions.model import Provider, RestFunction
from authgate.functions.serialize import DOCUMENT_FORMAT, solution_from_document


def is_local(document: Mapping[str, Any]) -> bool:
    """Whether a function entry of a public definition runs on the device."""
    return document.get("provider") == Provider.REST.value and document.get("useLocalCall") is True


def local_functions(definition: Mapping[str, Any]) -> dict[str, RestFunction]:
    """Every ``useLocalCall`` function of a public definition, ready for the engine."""
    functions = definition.get("functions")
    if not isinstance(functions, Mapping):
        raise InvalidSolutionDocument("the definition has no functions object")
    entries = {
        name: _complete(name, entry)
        for name, entry in functions.items()
        if isinstance(entry, Mapping) and is_local(entry)
    }
    document = {
        "format": DOCUMENT_FORMAT,
        "name": str(definition.get("name", "")),
        "title": None,
        "description": None,
        "functions": entries,
    }
    solution = solution_from_document(document)
    return {
        name: function
        for name, function in solution.functions.items()
        if isinstance(function, RestFunction)
    }


def _complete(name: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    # The public form leaves out what a device must not or need not see; the stored form's
    # reader wants every key, so the missing ones are put back empty.
    completed = {**entry, "source": entry.get("source", f"{name} (synced)")}
    completed["parameters"] = _parameters(entry.get("parameters"))
    continuation = entry.get("continuation")
    if isinstance(continuation, Mapping) and continuation.get("parameters") is not None:
        completed["continuation"] = {
            **continuation,
            "parameters": _parameters(continuation["parameters"]),
        }
    return completed


def _parameters(parameters: object) -> dict[str, Any]:
    if not isinstance(parameters, Mapping):
        raise InvalidSolutionDocument("a function's parameters are not an object")
    return {
        name: {"value": None, "credential": None, **value} if isinstance(value, Mapping) else value
        for name, value in parameters.items()
    }
