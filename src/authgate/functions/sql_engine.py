"""The SQL function engine: runs a ``DATA_PROVIDER_SQL`` function and returns its records.

FUNCTIONS.md, "SQL functions" and "What a call returns". One call: check the caller's
parameters (never the connection, the statement or an output), resolve values and defaults,
bind each input in its declared type, resolve the connection credential, run the one
statement through the :class:`SqlRunner`, then apply ``outputTransform`` and ``records``
with the same expression code as REST functions. A call is one page.

What ``$`` is for the transforms:

* ``method: query``, and ``method: execute`` without output parameters: the rows of the
  result set, each an object keyed by column name (``[]`` when the statement returns none).
* ``method: execute`` with output parameters: an object of the output parameters by name,
  plus ``rows`` with the procedure's result set when it returned one.

Nothing of a parameter value, a row or the connection URL is logged or put in an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authgate.functions.arguments import check_arguments, resolve_values
from authgate.functions.call import CallContext, CallLimits, CallResult
from authgate.functions.call_budget import CallBudget
from authgate.functions.engine import rows_of
from authgate.functions.errors import InvalidFunctionArguments
from authgate.functions.expressions import EvaluationLimits, compile_expression
from authgate.functions.model import ParameterLocation, SqlFunction, is_expression
from authgate.functions.ports import Monotonic
from authgate.functions.sql_ports import (
    SqlCall,
    SqlConnectionResolver,
    SqlLimits,
    SqlOutcome,
    SqlRunner,
)
from authgate.functions.sql_values import bind_value

ROWS_KEY = "rows"


class SqlFunctionEngine:
    """Runs SQL functions through a :class:`SqlRunner`."""

    __slots__ = ("_limits", "_monotonic", "_runner", "_sql_limits")

    def __init__(
        self,
        runner: SqlRunner,
        *,
        monotonic: Monotonic,
        limits: CallLimits | None = None,
        sql_limits: SqlLimits | None = None,
    ) -> None:
        self._runner = runner
        self._monotonic = monotonic
        self._limits = limits or CallLimits()
        self._sql_limits = sql_limits or SqlLimits()

    async def call(
        self,
        function: SqlFunction,
        arguments: Mapping[str, Any],
        *,
        context: CallContext,
        connections: SqlConnectionResolver,
    ) -> CallResult:
        """Run ``function`` with the caller's ``arguments`` for ``context``'s user."""
        check_arguments(arguments, [function.parameters])
        for name in arguments:
            if function.parameters[name].location is ParameterLocation.OUTPUT:
                raise InvalidFunctionArguments(
                    f"parameter {name!r} is an output of the stored procedure; a caller "
                    "cannot send it"
                )
        budget = CallBudget(self._limits, self._monotonic)
        base = context.document()
        caller = dict(arguments)
        inputs = {
            name: parameter
            for name, parameter in function.parameters.items()
            if parameter.location is ParameterLocation.INPUT
        }
        resolved = resolve_values(
            inputs,
            caller,
            ctx={**base, "parameters": caller},
            document=caller,
            limits=budget.expression_limits(),
        )
        values = {
            name: bind_value(name, parameter.type, resolved.get(name))
            for name, parameter in inputs.items()
        }
        outputs = tuple(
            (name, parameter.type)
            for name, parameter in function.parameters.items()
            if parameter.location is ParameterLocation.OUTPUT
        )
        connection = await connections.sql_connection(function.connection)
        budget.start_page()
        remaining = budget.request_limits().timeout  # raises when the call's time is up
        call = SqlCall(
            function=function.name,
            connection=function.connection,
            method=function.method,
            query=function.query,
            procedure=function.procedure,
            values=values,
            inputs=tuple(inputs),
            outputs=outputs,
            timeout=min(self._sql_limits.statement_seconds, remaining),
            max_rows=self._sql_limits.max_rows,
            input_types={name: parameter.type for name, parameter in inputs.items()},
        )
        outcome = await self._runner.run(connection, call)
        document = sql_document(outcome, declared_outputs=bool(outputs))
        ctx = {**base, "parameters": dict(resolved)}
        limits = budget.expression_limits()
        output = _evaluate(function.output_transform, document, ctx, "outputTransform", limits)
        selected = output
        if function.records is not None:
            selected = _evaluate(function.records, output, ctx, "records", limits)
        return CallResult(records=rows_of(selected), output=output, pages=budget.pages)


def sql_document(outcome: SqlOutcome, *, declared_outputs: bool) -> Any:
    """The document ``outputTransform`` applies to (see the module docstring)."""
    if not declared_outputs:
        return outcome.rows
    document: dict[str, Any] = dict(outcome.outputs or {})
    if outcome.result_set:
        document[ROWS_KEY] = outcome.rows
    return document


def _evaluate(
    text: str, document: Any, ctx: Mapping[str, Any], role: str, limits: EvaluationLimits
) -> Any:
    if not is_expression(text):
        return text
    return compile_expression(text).evaluate(document, ctx=ctx, role=role, limits=limits)
