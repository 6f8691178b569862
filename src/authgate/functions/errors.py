"""Errors of solutions, function calls and upstreams.

Messages name the file, key, function, parameter or bound that was at fault; they never
contain a credential, a parameter's value or any part of a proxied payload.
"""

from __future__ import annotations

from typing import Any

from authgate.errors import AuthgateError, BadRequest, ValidationFailed


class InvalidSolution(ValidationFailed):
    """A solution folder or function file breaks the definition format.

    ``details["problems"]`` lists each problem as ``{"file", "key", "line", "problem"}``.
    """

    code = "invalid_solution"


class SqlFunctionsUnavailable(AuthgateError):
    """The function is a SQL function, which this server cannot run (yet)."""

    code = "sql_functions_unavailable"
    status = 501


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


class ExpressionError(AuthgateError):
    """A JSONata expression of a function failed while it ran.

    The message names the expression's role (``outputTransform``, ``records``, …), the problem
    and its position in the expression, never a value of the data it ran on. 502: the
    function could not turn the upstream's answer into a result.
    """

    code = "expression_error"
    status = 502

    def __init__(
        self, message: str, *, role: str | None = None, position: int | None = None
    ) -> None:
        super().__init__(message)
        self.role = role
        self.position = position


class ExpressionSyntaxError(ExpressionError):
    """An expression does not parse; ``position`` is the character offset in the text as
    written (leading ``=`` included), when the parser reports one."""

    code = "expression_syntax_error"
    status = 422


class InvalidFunctionArguments(BadRequest):
    """The caller's parameters do not fit the function: unknown, missing or mistyped.

    The message names the parameter and what it must be, never the value that was sent.
    """

    code = "invalid_function_arguments"


class CredentialParameterRefused(InvalidFunctionArguments):
    """The caller tried to supply a parameter that authgate fills from a stored credential."""

    code = "credential_parameter_refused"


class BasicAuthenticationRefused(FunctionCallFailed):
    """The function would send a basic-auth credential, which the cloud proxy never does."""

    code = "basic_auth_not_allowed"


class CredentialHostRefused(FunctionCallFailed):
    """A credential would go to a host it is not bound to (or the URL is not one to send to)."""

    code = "credential_host_refused"


class InvalidFunctionRequest(FunctionCallFailed):
    """The request the function describes cannot be built: a bad URL, header or body."""

    code = "invalid_function_request"


class InvalidUpstreamResponse(FunctionCallFailed):
    """The upstream's body does not parse in the function's ``format``."""

    code = "upstream_response_invalid"


class CallBoundExceeded(FunctionCallFailed):
    """A call passed one of its bounds; ``bound`` is ``pages``, ``bytes`` or ``time``."""

    code = "function_call_bound_exceeded"

    def __init__(self, bound: str, status: int, title: str, description: str) -> None:
        super().__init__(status, title, description)
        self.bound = bound


class InvalidSolutionDocument(AuthgateError):
    """A stored solution document is not in the form authgate writes (a corrupt or foreign
    row); the definition cannot be used until it is published again."""

    code = "invalid_solution_document"
    status = 500
