"""The Python side of the JSONata benchmark, run by the harness as its own process on core 0.

    jsonata_py.py measure DATA --seconds S --warmup W --results FILE
        every transform of jsonata_transforms.json on the document in DATA: compile once, warm
        up, then evaluate in a loop (the best of 3 rounds of S/3 seconds); prints one JSON
        object (engine, transform → evaluations/s, notes) and writes each transform's result
        to FILE for the comparison with the JavaScript side.
    jsonata_py.py profile DATA --transform NAME --seconds S --out FILE
        cProfile of evaluations of one transform; the top functions by cumulative time to FILE.

Expressions go through ``authgate.functions.expressions`` (``compile_expression(text)`` →
``Expression.evaluate(document, ctx=...)``); where that module is missing, through
``jsonata-python`` directly, the same way (the context bound as ``$ctx``).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jsonata_cases import CONTEXT, transforms

ROUNDS = 3  # the measured seconds in equal rounds; the best round counts


Evaluate = Callable[[Any], Any]


def _compiler() -> tuple[str, Callable[[str, bool], Evaluate]]:
    """The engine's name, and (text, bounded) → a function that evaluates it on a document.

    ``bounded``: with authgate's default evaluation limits (as a function call runs it), or
    with the time bound raised so that a slow case still gets a figure.
    """
    try:
        from authgate.functions.expressions import (
            DEFAULT_LIMITS,
            EvaluationLimits,
            compile_expression,
        )
    except ImportError:
        import jsonata

        def direct(text: str, bounded: bool) -> Evaluate:
            expression = jsonata.Jsonata(text)
            bindings = {"ctx": CONTEXT}
            return lambda document: expression.evaluate(document, bindings)

        return "jsonata-python (direct)", direct

    raised = EvaluationLimits(seconds=3600, max_depth=DEFAULT_LIMITS.max_depth)

    def through_authgate(text: str, bounded: bool) -> Evaluate:
        expression = compile_expression(text)
        limits = DEFAULT_LIMITS if bounded else raised
        return lambda document: expression.evaluate(document, ctx=CONTEXT, limits=limits)

    return "authgate.functions.expressions", through_authgate


def _loop(evaluate: Evaluate, document: Any, seconds: float) -> float:
    """Evaluations per second over ``seconds`` (at least one evaluation)."""
    count, start = 0, time.perf_counter()
    end = start + seconds
    while count < 1 or time.perf_counter() < end:
        evaluate(document)
        count += 1
    return count / (time.perf_counter() - start)


def _best(evaluate: Evaluate, document: Any, seconds: float) -> float:
    """The best of :data:`ROUNDS` rounds: a burst of other load on the core hits one round."""
    return max(_loop(evaluate, document, seconds / ROUNDS) for _ in range(ROUNDS))


def _measure(evaluate: Evaluate, document: Any, seconds: float, warmup: float) -> tuple[Any, float]:
    """The result of one evaluation, and the evaluations/s after the warm-up."""
    result = evaluate(document)
    _loop(evaluate, document, warmup)
    return result, _best(evaluate, document, seconds)


def measure(data: Path, seconds: float, warmup: float, results: Path) -> dict[str, Any]:
    """Each transform's evaluations/s; a transform that fails gets a note instead (or too)."""
    engine, compile_text = _compiler()
    document = json.loads(data.read_text())
    rates: dict[str, float] = {}
    notes: dict[str, str] = {}
    outputs: dict[str, Any] = {}
    for name, text in transforms().items():
        try:
            try:
                outputs[name], rates[name] = _measure(
                    compile_text(text, True), document, seconds, warmup
                )
            except Exception as exc:  # a bound passed, or an evaluation error: say which
                notes[name] = (
                    "passes authgate's time bound per evaluation, so measured with it raised"
                    if "time bound" in str(exc)
                    else f"{type(exc).__name__}: {exc}; measured with the bounds raised"
                )
                outputs[name], rates[name] = _measure(
                    compile_text(text, False), document, seconds, warmup
                )
        except Exception as exc:
            notes[name] = f"not measured: {type(exc).__name__}: {exc}"
    results.write_text(json.dumps(outputs, ensure_ascii=False))
    return {"engine": engine, "per_second": rates, "notes": notes}


def profile(data: Path, transform: str, seconds: float, out: Path) -> dict[str, Any]:
    engine, compile_text = _compiler()
    document = json.loads(data.read_text())
    evaluate = compile_text(transforms()[transform], False)
    evaluate(document)
    profiler = cProfile.Profile()
    profiler.enable()
    per_second = _loop(evaluate, document, seconds)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats(pstats.SortKey.CUMULATIVE).print_stats(40)
    stats.sort_stats(pstats.SortKey.TIME).print_stats(25)
    header = (
        f"cProfile of {transform!r} on {data.name} through {engine}, "
        f"{seconds:g} s ({per_second:,.1f} evaluations/s under the profiler)\n"
        "First: the top 40 functions by cumulative time; then the top 25 by own time.\n"
    )
    out.write_text(header + text.getvalue())
    return {"engine": engine, "per_second_profiled": per_second}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["measure", "profile"])
    parser.add_argument("data", type=Path)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--results", type=Path)
    parser.add_argument("--transform")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.what == "measure":
        result = measure(args.data, args.seconds, args.warmup, args.results)
    else:
        result = profile(args.data, args.transform, args.seconds, args.out)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
