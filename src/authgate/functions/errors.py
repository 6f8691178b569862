"""Errors of solutions, function calls and upstreams.

Messages name the file, key, function, parameter or bound that was at fault; they never
contain a credential, a parameter's value or any part of a proxied payload.
"""

from __future__ import annotations

from typing import Any

from authgate.errors import AuthgateError, ValidationFailed


class InvalidSolution(ValidationFailed):
    """A solution folder or function file breaks the definition format.

    ``details["problems"]`` lists each problem as ``{"file", "key", "line", "problem"}``.
    """

    code = "invalid_solution"


class UpstreamError(AuthgateError):
    """Base of what can go wrong talking to an upstream (raised by the egress client)."""

    code = "upstream_error"
    status = 502


class FunctionCallFailed(AuthgateError):
    """A function call ended in an error the caller sees as ``{"error": {status, title, ...}}``.

    ``status`` is per instance: the upstream's status when a handler or the default decided,
    otherwise the status of the bound or problem that stopped the call.
    """

    code = "function_call_failed"
    status = 502

    def __init__(
        self,
        status: int,
        title: str,
        description: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(title)
        self.status = status  # type: ignore[misc]  # per instance, see the class docstring
        self.title = title
        self.description = description
        self.call_details = details


class InvalidSolutionDocument(AuthgateError):
    """A stored solution document is not in the form authgate writes (a corrupt or foreign
    row); the definition cannot be used until it is published again."""

    code = "invalid_solution_document"
    status = 500
