"""JSONata expressions of function definitions, behind an interface of our own.

``compile_expression(text)`` parses once (cached by text) and returns an :class:`Expression`
whose ``evaluate(document, ctx=...)`` runs it with ``$`` bound to the document and ``$ctx``
bound to the call's context. Authors write ``@ctx``; it is rewritten to ``$ctx`` outside string
literals, quoted names, comments and regular expressions before parsing (same length, so
positions in errors still point into the text as written).

Only this module knows the evaluator (``jsonata-python``), so it can be replaced. What it adds:

* JSONata ``undefined`` (and ``null``) come back as ``None``; sequences as plain lists.
* Every evaluation is bounded in time, depth and the length of the strings and arrays it
  builds by :class:`EvaluationLimits`. The library's own
  timebox starts counting when the expression is *compiled*, which is useless for a cached
  expression, so the bounds are installed per evaluation instead.
* ``$eval`` is not available: it would run text built from data in the caller's scope, where it
  could rebind the bound checks.
* Errors never contain evaluated data: a syntax error names the problem and its position (the
  author's text only), an evaluation error names the role (e.g. ``outputTransform``), the
  JSONata error code and position, with every value left out.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jsonata import JException, Jsonata  # type: ignore[import-untyped]
from jsonata.utils import Utils  # type: ignore[import-untyped]

from authgate.functions.context_references import CONTEXT_VARIABLE, rewrite_context_references
from authgate.functions.errors import ExpressionError, ExpressionSyntaxError
from authgate.functions.model import EXPRESSION_PREFIX
from authgate.functions.rounding import js_round

_GUARD_ENTRY = "__evaluate_entry"
_GUARD_EXIT = "__evaluate_exit"
_RESERVED = ("__evaluate",)
_CACHE_SIZE = 2048
_ROUND = Jsonata.JLambda(js_round)  # the reference JSONata's rounding (see .rounding)

_RAISED_BY_AUTHOR = frozenset({"D3137", "D3141"})
_PLACEHOLDER = re.compile(r"\{\{\{?\w+\}?\}\}")


@dataclass(frozen=True, slots=True)
class EvaluationLimits:
    """Bounds on one evaluation: wall seconds, nesting depth of the evaluator, and the length
    of any string or array it builds (so that doubling a value in a loop stops early)."""

    seconds: float = 1.0
    max_depth: int = 400
    max_length: int = 10_000_000
    clock: Callable[[], float] = time.monotonic


DEFAULT_LIMITS = EvaluationLimits()


class _BoundExceeded(Exception):
    """Raised from the evaluator's callbacks when an evaluation passes a bound."""

    def __init__(self, bound: str) -> None:
        super().__init__(bound)
        self.bound = bound


class Expression:
    """A compiled JSONata expression; safe to share and to evaluate many times."""

    __slots__ = ("_compiled", "_path", "text")

    def __init__(self, text: str, compiled: Jsonata, path: tuple[str, ...] | None = None) -> None:
        self.text = text
        self._compiled = compiled
        self._path = path

    def evaluate(
        self,
        document: Any,
        *,
        ctx: Mapping[str, Any],
        role: str | None = None,
        limits: EvaluationLimits = DEFAULT_LIMITS,
    ) -> Any:
        """The expression's value on ``document`` (``$``), with ``$ctx`` bound to ``ctx``.

        Raises :class:`ExpressionError` naming ``role`` when evaluation fails or passes a bound.
        """
        if self._path is not None:
            found = _follow(document, self._path)
            if found is not _MAPPED:
                return _plain(found)
        # A shallow copy per evaluation: the evaluator keeps per-evaluation state on the
        # instance it finds in a thread-local, so each evaluation gets its own.
        instance = copy.copy(self._compiled)
        previous = getattr(Jsonata.CURRENT, "jsonata", None)
        Jsonata.CURRENT.jsonata = instance
        bindings = {
            CONTEXT_VARIABLE: dict(ctx),
            "eval": Jsonata.JLambda(_eval_refused),
            "round": _ROUND,
            **_guards(limits),
        }
        try:
            result = instance.evaluate(document, bindings)
            return _plain(result)
        except _BoundExceeded as exc:
            raise ExpressionError(
                f"{_subject(role)} passed its {exc.bound} bound; simplify the expression",
                role=role,
            ) from None
        except JException as exc:
            raise _evaluation_error(exc, role) from None
        except ExpressionError as exc:
            raise ExpressionError(f"{_subject(role)}: {exc.message}", role=role) from None
        except RecursionError:
            raise ExpressionError(
                f"{_subject(role)} nests too deeply for the evaluator", role=role
            ) from None
        except Exception as exc:  # the evaluator raises plain Python errors on bad data
            raise ExpressionError(
                f"{_subject(role)} failed ({type(exc).__name__}); check the types it works on",
                role=role,
            ) from None
        finally:
            Jsonata.CURRENT.jsonata = previous

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


def compile_expression(text: str) -> Expression:
    """Compile ``text`` (with or without the leading ``=``); raises ExpressionSyntaxError."""
    return _compile(text)


def check_expression(text: str) -> str | None:
    """``None`` when ``text`` compiles, else a message naming the problem and its position."""
    try:
        compile_expression(text)
    except ExpressionSyntaxError as exc:
        return exc.message
    return None


def truthy(value: Any) -> bool:
    """JSONata's boolean cast (``$boolean``): empty, zero, ``false`` and ``None`` are false."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str | dict):
        return len(value) > 0
    if isinstance(value, list):
        return any(truthy(item) for item in value)
    return False


@lru_cache(maxsize=_CACHE_SIZE)
def _compile(text: str) -> Expression:
    offset = len(EXPRESSION_PREFIX) if text.startswith(EXPRESSION_PREFIX) else 0
    source = text[offset:]
    for reserved in _RESERVED:
        if reserved in source:
            raise ExpressionSyntaxError(
                f"expression uses the reserved name {reserved!r}; rename it", position=None
            )
    try:
        compiled = Jsonata(rewrite_context_references(source))
        # Documents are parsed JSON (or XML read into the same shapes) and the call context:
        # walking them to check their types before every evaluation doubled a select's time.
        compiled.set_validate_input(False)
    except JException as exc:
        position = offset + max(exc.location, 0)
        problem = _describe(exc, with_tokens=True)
        raise ExpressionSyntaxError(
            f"expression syntax error at position {position}: {problem}", position=position
        ) from None
    except RecursionError:
        raise ExpressionSyntaxError(
            "expression nests too deeply to parse; simplify it", position=None
        ) from None
    return Expression(text, compiled, simple_path(source))


_NAME = r"(?:[A-Za-z_][A-Za-z0-9_]*|\"[^\"\\]*\"|`[^`]*`)"
# A double-quoted token is a field name only after a dot; first, it is a string literal.
_FIRST = r"(?:\$|[A-Za-z_][A-Za-z0-9_]*|`[^`]*`)"
_SIMPLE_PATH = re.compile(rf"\s*{_FIRST}(?:\s*\.\s*{_NAME})*\s*")
_STEP = re.compile(_NAME)
_WORDS = frozenset({"and", "or", "in", "true", "false", "null", "function"})
_MAPPED = object()  # the path met an array: JSONata maps over it, the evaluator must decide


def simple_path(source: str) -> tuple[str, ...] | None:
    """The field names of an expression that only walks fields (``$``, ``$.value``,
    ``$."@odata.nextLink"``, ``a.b``), else None.

    Most transforms of real functions are such paths. Over objects, JSONata's answer is
    plain field access, so :meth:`Expression.evaluate` answers them without the evaluator,
    and hands anything else (an array on the way) to it.
    """
    if not _SIMPLE_PATH.fullmatch(source):
        return None
    steps: list[str] = []
    for token in _STEP.findall(source.strip().removeprefix("$")):
        if token in _WORDS:
            return None
        steps.append(token[1:-1] if token[0] in '"`' else token)
    return tuple(steps)


def _follow(document: Any, path: tuple[str, ...]) -> Any:
    current = document
    for step in path:
        if isinstance(current, dict):
            if step not in current:
                return None
            current = current[step]
        elif isinstance(current, list):
            return _MAPPED
        else:
            return None
    return current


def _guards(limits: EvaluationLimits) -> dict[str, Any]:
    """Entry/exit callbacks the evaluator calls around every node: the per-evaluation bounds."""
    clock = limits.clock
    deadline = clock() + limits.seconds
    depth = 0

    def entry(_expr: Any, _input: Any, environment: Any) -> None:
        nonlocal depth
        if environment.is_parallel_call:
            return
        depth += 1
        if depth > limits.max_depth:
            raise _BoundExceeded("depth")
        if clock() > deadline:
            raise _BoundExceeded("time")

    def exit_(_expr: Any, _input: Any, environment: Any, result: Any) -> None:
        nonlocal depth
        if isinstance(result, str | list) and len(result) > limits.max_length:
            raise _BoundExceeded("size")
        if environment.is_parallel_call:
            return
        depth -= 1
        if clock() > deadline:
            raise _BoundExceeded("time")

    return {_GUARD_ENTRY: entry, _GUARD_EXIT: exit_}


def _eval_refused(*_args: Any) -> Any:
    raise ExpressionError("$eval is not available in function expressions")


def _plain(value: Any) -> Any:
    """Plain JSON values: lists instead of sequences, no functions, no evaluator sentinels."""
    if value is None or value is Utils.NULL_VALUE:
        return None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    raise ExpressionError("the expression returned a function, which is not a JSON value")


def _evaluation_error(exc: JException, role: str | None) -> ExpressionError:
    where = f" at position {exc.location}" if exc.location >= 0 else ""
    problem = _describe(exc, with_tokens=False)
    return ExpressionError(
        f"{_subject(role)} failed{where}: {problem} (JSONata {exc.error})", role=role
    )


def _describe(exc: JException, *, with_tokens: bool) -> str:
    """The evaluator's message for ``exc``; without ``with_tokens`` every inserted value is cut.

    Syntax errors may show tokens: they come from the author's text. Evaluation errors may
    insert values of the data (``$number("…")``, ``$error(…)``), so those are never shown.
    """
    if with_tokens:
        return str(exc)
    if exc.error in _RAISED_BY_AUTHOR:
        return "the expression raised an error ($error or $assert)"
    template = JException.error_codes.get(exc.error, "evaluation error")
    return _PLACEHOLDER.sub("(value not shown)", template)


def _subject(role: str | None) -> str:
    return f"expression {role!r}" if role else "expression"
