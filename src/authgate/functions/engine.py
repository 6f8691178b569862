"""The function engine: runs a REST function and returns its records, output and pages.

FUNCTIONS.md, "REST functions" and "What a call returns". One call: check the caller's
parameters, resolve values and defaults, then per page build the request, exchange it (with
error handling), decode the body, apply ``outputTransform`` and ``records``, and follow the
``continuation`` while its ``when`` is truthy, within the bounds of :class:`CallLimits`.

The engine does no I/O of its own: the upstream, the credential resolver, ``sleep`` and the
clock are passed in. The cloud and the device run this same engine, so ``useLocalCall``
functions are not refused here. Nothing of a request or response body is logged or put in an
error by the engine (an error handler's own ``title``/``description``/``details`` are the
function author's choice).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

from authgate.functions.arguments import check_arguments, resolve_values
from authgate.functions.call import CallContext, CallLimits, CallResult
from authgate.functions.call_budget import CallBudget
from authgate.functions.call_credentials import CallCredentials
from authgate.functions.error_handlers import response_document
from authgate.functions.errors import InvalidFunctionRequest
from authgate.functions.exchange import Exchanger
from authgate.functions.expressions import EvaluationLimits, compile_expression, truthy
from authgate.functions.model import (
    Continuation,
    Parameter,
    ParameterLocation,
    RestFunction,
    is_expression,
)
from authgate.functions.ports import CredentialResolver, Monotonic, Sleep, Upstream
from authgate.functions.request import PageRequest


class FunctionEngine:
    """Runs REST functions against an :class:`Upstream`."""

    __slots__ = ("_limits", "_monotonic", "_sleep", "_upstream")

    def __init__(
        self,
        upstream: Upstream,
        *,
        sleep: Sleep,
        monotonic: Monotonic,
        limits: CallLimits | None = None,
    ) -> None:
        self._upstream = upstream
        self._sleep = sleep
        self._monotonic = monotonic
        self._limits = limits or CallLimits()

    @property
    def limits(self) -> CallLimits:
        """The bounds every call runs within."""
        return self._limits

    async def call(
        self,
        function: RestFunction,
        arguments: Mapping[str, Any],
        *,
        context: CallContext,
        credentials: CredentialResolver,
    ) -> CallResult:
        """Run ``function`` with the caller's ``arguments`` for ``context``'s user."""
        continuation = function.continuation
        declarations = [function.parameters]
        if continuation is not None and continuation.parameters is not None:
            declarations.append(continuation.parameters)
        check_arguments(arguments, declarations)

        budget = CallBudget(self._limits, self._monotonic)
        base = context.document()
        caller = dict(arguments)
        values = resolve_values(
            function.parameters,
            caller,
            ctx={**base, "parameters": caller},
            document=caller,
            limits=budget.expression_limits(),
        )
        page = PageRequest(
            function.method, function.url, function.parameters, values, function.input_transform
        )
        exchanger = Exchanger(
            function,
            upstream=self._upstream,
            sleep=self._sleep,
            budget=budget,
            credentials=CallCredentials(credentials),
            limits=self._limits,
        )
        records: list[Any] = []
        while True:
            budget.start_page()
            ctx = {**base, "parameters": dict(page.values)}
            response, body = await exchanger.fetch(page, ctx)
            limits = budget.expression_limits()
            output = _evaluate(function.output_transform, body, ctx, "outputTransform", limits)
            selected = output
            if function.records is not None:
                selected = _evaluate(function.records, output, ctx, "records", limits)
            records.extend(rows_of(selected))
            if continuation is None:
                break
            page_ctx = {**ctx, "response": response_document(response, body)}
            if not truthy(
                _evaluate(continuation.when, output, page_ctx, "continuation.when", limits)
            ):
                break
            page = _next_page(
                function,
                continuation,
                page,
                url=urljoin(
                    response.url or page.url, _next_url(continuation, output, page_ctx, limits)
                ),
                values=_continuation_values(
                    continuation, page, caller, output, page_ctx, budget.expression_limits()
                ),
            )
        return CallResult(records=records, output=output, pages=budget.pages)


def rows_of(value: Any) -> list[Any]:
    """Records of a page: an array is its rows, an object is one row, anything else none."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value]
    return []


def _next_page(
    function: RestFunction,
    continuation: Continuation,
    page: PageRequest,
    *,
    url: str,
    values: Mapping[str, Any],
) -> PageRequest:
    parameters: Mapping[str, Parameter]
    if continuation.parameters is not None:
        parameters = continuation.parameters
    else:
        # The previous page's parameters go on, except the query: the next URL carries it.
        parameters = {
            name: parameter
            for name, parameter in page.parameters.items()
            if parameter.location is not ParameterLocation.QUERY
        }
    return PageRequest(
        function.method, url, parameters, values, function.input_transform, is_continuation=True
    )


def _continuation_values(
    continuation: Continuation,
    page: PageRequest,
    caller: Mapping[str, Any],
    output: Any,
    ctx: Mapping[str, Any],
    limits: EvaluationLimits,
) -> Mapping[str, Any]:
    if continuation.parameters is None:
        return page.values
    return resolve_values(continuation.parameters, caller, ctx=ctx, document=output, limits=limits)


def _next_url(
    continuation: Continuation, output: Any, ctx: Mapping[str, Any], limits: EvaluationLimits
) -> str:
    url = _evaluate(continuation.url, output, ctx, "continuation.url", limits)
    if not isinstance(url, str) or not url:
        raise InvalidFunctionRequest(
            502,
            "The function's continuation gave no URL",
            "continuation.url must give a non-empty string whenever continuation.when is true",
        )
    return url


def _evaluate(
    text: str, document: Any, ctx: Mapping[str, Any], role: str, limits: EvaluationLimits
) -> Any:
    if not is_expression(text):
        return text
    return compile_expression(text).evaluate(document, ctx=ctx, role=role, limits=limits)
