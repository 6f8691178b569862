"""The ``error:`` handlers of a function and what a failed exchange turns into.

FUNCTIONS.md, "REST functions": handlers are tried in order; the first whose ``when`` is true
decides. Its ``retry`` repeats the request (at most ``maxRetries`` times); otherwise, or once
retries are spent, its ``title``/``description``/``details`` (literals or expressions) with the
upstream's status are what the caller sees. Handlers see ``@ctx.response.{status,headers,body}``
for an answer and ``@ctx.error.{name,message}`` for an exchange that failed, and ``$`` is the
decoded body. Without a matching handler the caller gets the status and a short message that
says nothing of the payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from authgate.functions.errors import FunctionCallFailed, UpstreamError
from authgate.functions.expressions import EvaluationLimits, compile_expression, truthy
from authgate.functions.model import ErrorHandler, is_expression
from authgate.functions.ports import UpstreamResponse


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """Repeat the request after ``delay`` seconds; ``handler`` counts the attempts."""

    handler: int
    delay: float


@dataclass(frozen=True, slots=True)
class FailDecision:
    """End the call with ``failure``."""

    failure: FunctionCallFailed


Decision = RetryDecision | FailDecision


def response_document(response: UpstreamResponse, body: Any) -> dict[str, Any]:
    """``@ctx.response``: status, headers (lower-case names, repeats joined) and the body."""
    headers: dict[str, str] = {}
    for name, value in response.headers:
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return {"status": response.status, "headers": headers, "body": body}


def error_document(error: UpstreamError) -> dict[str, Any]:
    """``@ctx.error``: what went wrong talking to the upstream (no payload, no credential)."""
    return {"name": type(error).__name__, "code": error.code, "message": error.message}


def decide(
    handlers: tuple[ErrorHandler, ...],
    *,
    status: int,
    document: Any,
    ctx: Mapping[str, Any],
    retries_done: Mapping[int, int],
    limits: EvaluationLimits,
) -> Decision | None:
    """What the first matching handler says, or ``None`` when none matches."""
    for index, handler in enumerate(handlers):
        role = f"error[{index}]"
        if handler.when is not None and not truthy(
            _value(handler.when, document, ctx, f"{role}.when", limits)
        ):
            continue
        if handler.retry is not None and retries_done.get(index, 0) < handler.retry.max_retries:
            return RetryDecision(index, max(handler.retry.delay_ms, 0) / 1000)
        if handler.title is None and handler.description is None and handler.details is None:
            return FailDecision(default_failure(status))
        title = _value(handler.title, document, ctx, f"{role}.title", limits)
        description = _value(handler.description, document, ctx, f"{role}.description", limits)
        details = _value(handler.details, document, ctx, f"{role}.details", limits)
        return FailDecision(
            FunctionCallFailed(
                status,
                _text(title) or default_title(status),
                _text(description),
                details,
            )
        )
    return None


def default_failure(status: int) -> FunctionCallFailed:
    """The upstream's status with a short message that says nothing of the payload."""
    return FunctionCallFailed(
        status,
        default_title(status),
        "the upstream refused the request; no error handler of the function matched",
    )


def default_title(status: int) -> str:
    """``"The upstream answered 404 Not Found"`` and the like."""
    try:
        phrase = f" {HTTPStatus(status).phrase}"
    except ValueError:
        phrase = ""
    return f"The upstream answered {status}{phrase}"


def _value(
    value: str | None, document: Any, ctx: Mapping[str, Any], role: str, limits: EvaluationLimits
) -> Any:
    if value is None or not is_expression(value):
        return value
    return compile_expression(value).evaluate(document, ctx=ctx, role=role, limits=limits)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)
