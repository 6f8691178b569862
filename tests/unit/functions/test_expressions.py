"""The JSONata expression interface: @ctx, undefined, errors, bounds."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authgate.functions.context_references import rewrite_context_references
from authgate.functions.errors import ExpressionError, ExpressionSyntaxError
from authgate.functions.expressions import (
    EvaluationLimits,
    check_expression,
    compile_expression,
    truthy,
)

CTX = {"user": {"id": "usr_1", "email": "bea@example.net"}, "parameters": {"id": 7}}
SECRET_DATA = "canary-payload-7f3a"


def run(text: str, document: object = None, **kwargs: object) -> object:
    return compile_expression(text).evaluate(document, ctx=CTX, **kwargs)  # type: ignore[arg-type]


# --- the @ctx rewrite -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("@ctx.user.id", "$ctx.user.id"),
        ("@ctx", "$ctx"),
        ("(@ctx.a)", "($ctx.a)"),
        ("$.a & @ctx.b", "$.a & $ctx.b"),
        ('"@ctx.user"', '"@ctx.user"'),
        ("'@ctx.user'", "'@ctx.user'"),
        ('"say \\"@ctx\\" here" & @ctx.x', '"say \\"@ctx\\" here" & $ctx.x'),
        ("`@ctx`.x", "`@ctx`.x"),
        ("$.`a @ctx b` & @ctx.y", "$.`a @ctx b` & $ctx.y"),
        ("/* @ctx */ @ctx.z", "/* @ctx */ $ctx.z"),
        ('$match("x", /@ctx/) & @ctx.q', '$match("x", /@ctx/) & $ctx.q'),
        ("@ctxual", "@ctxual"),
        ("@ctx_user", "@ctx_user"),
        ("4 / 2 & @ctx.n", "4 / 2 & $ctx.n"),
        ("$.a/2/@ctx.n", "$.a/2/$ctx.n"),
        ('"unterminated @ctx', '"unterminated @ctx'),
    ],
)
def test_context_references_are_rewritten_only_outside_literals(source: str, expected: str) -> None:
    assert rewrite_context_references(source) == expected


def test_at_ctx_reads_the_bound_context() -> None:
    assert run("=@ctx.user.id") == "usr_1"
    assert run("=@ctx.parameters.id + 1") == 8


def test_at_ctx_inside_strings_and_quoted_names_stays_literal() -> None:
    document = {"@ctx": "quoted name", "a": 1}
    assert run('="@ctx"') == "@ctx"
    assert run("=$.`@ctx`", document) == "quoted name"
    assert run('="@ctx.user.id is " & @ctx.user.id') == "@ctx.user.id is usr_1"


def test_expressions_without_prefix_compile_the_same() -> None:
    assert run("$.a", {"a": 2}) == run("=$.a", {"a": 2}) == 2


# --- values ------------------------------------------------------------------------------


def test_undefined_becomes_none() -> None:
    assert run("=$.missing", {"a": 1}) is None
    assert run("=$.a[5]", {"a": [1]}) is None


def test_results_are_plain_json_values() -> None:
    result = run("=$.a.b", {"a": [{"b": 1}, {"b": 2.0}]})
    assert result == [1, 2]
    assert type(result) is list
    assert type(result[1]) is int


def test_odd_keys_use_jsonata_quoting() -> None:
    page = {"@odata.nextLink": "https://graph.example.com/next"}
    assert run('=$."@odata.nextLink"', page) == "https://graph.example.com/next"


def test_a_function_is_not_a_result() -> None:
    with pytest.raises(ExpressionError, match="function"):
        run("=function($x) { $x }")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        (False, False),
        (True, True),
        (0, False),
        (0.5, True),
        ("", False),
        ("x", True),
        ({}, False),
        ({"a": 1}, True),
        ([], False),
        ([0, ""], False),
        ([0, "x"], True),
    ],
)
def test_truthy_follows_jsonata_boolean(value: object, expected: bool) -> None:
    assert truthy(value) is expected
    if value is not None:  # $boolean(undefined) is undefined
        assert run("=$boolean($)", value) is expected


# --- syntax errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position"),
    [("=$.a +", 6), ("=(", 2), ('="abc', 5), ("$.a +", 5)],
)
def test_syntax_errors_name_problem_and_position(text: str, position: int) -> None:
    with pytest.raises(ExpressionSyntaxError) as raised:
        compile_expression(text)
    assert raised.value.position == position
    assert f"position {position}" in raised.value.message
    assert raised.value.status == 422
    assert check_expression(text) == raised.value.message


def test_check_expression_accepts_valid_text() -> None:
    assert check_expression('=$."@odata.nextLink"') is None
    assert check_expression("=@ctx.response.status = 404") is None


def test_the_bound_checks_cannot_be_rebound() -> None:
    message = check_expression("=($__evaluate_entry := null; 1)")
    assert message is not None
    assert "reserved" in message


def test_eval_is_not_available() -> None:
    with pytest.raises(ExpressionError, match=r"\$eval"):
        run('=$eval("1 + 1")')


def test_compiled_expressions_are_cached() -> None:
    assert compile_expression("=$.cached") is compile_expression("=$.cached")


# --- evaluation errors never show data ----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "=$number($.secret)",
        "=$error($.secret)",
        '=$error("bad: " & $.secret)',
        "=$.secret + 1",
        "=$assert(false, $.secret)",
        "=$sum($.secret)",
        "=$.secret.$substring(1, 2) * 2",
        '=$.secret ~> $replace("", "x")',
    ],
)
def test_evaluation_errors_name_the_role_but_never_the_data(text: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        run(text, {"secret": SECRET_DATA}, role="outputTransform")
    assert SECRET_DATA not in str(raised.value)
    assert SECRET_DATA not in repr(raised.value.details)
    assert "outputTransform" in raised.value.message
    assert raised.value.role == "outputTransform"
    assert raised.value.status == 502


# --- bounds ------------------------------------------------------------------------------


def stepping_clock(step: float) -> EvaluationLimits:
    ticks = itertools.count()
    return EvaluationLimits(seconds=1.0, max_depth=10_000, clock=lambda: next(ticks) * step)


@pytest.mark.parametrize(
    "text",
    [
        "=($f := function($n) { $f($n + 1) }; $f(0))",  # tail call: a loop that never ends
        "=$count([1..1000000].($ * 2))",
        "=$reduce([1..100000], function($a, $b) { $a + $b })",
    ],
)
def test_a_runaway_expression_ends_at_the_time_bound(text: str) -> None:
    with pytest.raises(ExpressionError, match="time bound") as raised:
        run(text, role="records", limits=stepping_clock(0.001))
    assert raised.value.role == "records"


def test_deep_recursion_ends_at_the_depth_bound() -> None:
    limits = EvaluationLimits(seconds=3600, max_depth=200)
    with pytest.raises(ExpressionError, match="depth bound"):
        run("=($f := function($n) { 1 + $f($n + 1) }; $f(0))", limits=limits)


def test_bounds_count_from_each_evaluation_not_from_compilation() -> None:
    now = [0.0]
    limits = EvaluationLimits(seconds=1.0, clock=lambda: now[0])
    expression = compile_expression("=$.a + 1")
    assert expression.evaluate({"a": 1}, ctx={}, limits=limits) == 2
    now[0] = 10_000.0  # long after compilation: a fresh evaluation has its full budget
    assert expression.evaluate({"a": 2}, ctx={}, limits=limits) == 3


def test_evaluations_do_not_share_bindings() -> None:
    expression = compile_expression("=($x := $.v; $x & @ctx.user.id)")
    first = expression.evaluate({"v": "a"}, ctx={"user": {"id": "1"}})
    second = expression.evaluate({"v": "b"}, ctx={"user": {"id": "2"}})
    assert (first, second) == ("a1", "b2")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("@ctx$.\"'`/*()[]{} \\&ab=0")), max_size=40))
def test_the_rewrite_only_ever_turns_an_at_into_a_dollar(source: str) -> None:
    rewritten = rewrite_context_references(source)
    assert len(rewritten) == len(source)
    changed = [(a, b) for a, b in zip(source, rewritten, strict=True) if a != b]
    assert all(pair == ("@", "$") for pair in changed)
    # Every change is the @ of an @ctx reference.
    for index, (a, b) in enumerate(zip(source, rewritten, strict=True)):
        if a != b:
            assert source.startswith("@ctx", index)


@pytest.mark.parametrize(
    "text",
    [
        '=$reduce([1..64], function($acc, $i) { $acc & $acc }, "ab")',
        "=$reduce([1..64], function($acc, $i) { $append($acc, $acc) }, [1])",
    ],
)
def test_values_that_double_in_a_loop_end_at_the_size_bound(text: str) -> None:
    limits = EvaluationLimits(seconds=3600, max_length=100_000)
    with pytest.raises(ExpressionError, match="size bound"):
        run(text, limits=limits)
