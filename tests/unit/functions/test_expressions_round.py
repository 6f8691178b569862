"""``$round`` means what it means in the reference JavaScript JSONata (and so in Jigx)."""

from __future__ import annotations

import pytest

from authgate.functions.errors import ExpressionError
from authgate.functions.expressions import compile_expression
from authgate.functions.rounding import js_round


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # What jsonata-js answers (the first is where the exact binary value rounds the
        # other way: 494.43 / 1.2 is 412.02500000000003 as a double).
        ("$round(494.43 / 1.2, 2)", 412.02),
        ("$round(2.5)", 2),
        ("$round(3.5)", 4),
        ("$round(-2.5)", -2),
        ("$round(-3.5)", -4),
        ("$round(1.005, 2)", 1),
        ("$round(123.456, 2)", 123.46),
        ("$round(123.455, 2)", 123.46),
        ("$round(123.465, 2)", 123.46),
        ("$round(125, -1)", 120),
        ("$round(135, -1)", 140),
        ("$round(123.456, -2)", 100),
        ("$round(0.000015, 5)", 0.00002),
        ("$round(1e21, 2)", 1e21),
        ("$round(-0.4)", 0),
        ("$round(7)", 7),
    ],
)
def test_round_matches_the_reference(expression: str, expected: float) -> None:
    assert compile_expression("=" + expression).evaluate(None, ctx={}) == expected


def test_round_of_nothing_is_nothing() -> None:
    assert compile_expression("=$round($.missing)").evaluate({}, ctx={}) is None


@pytest.mark.parametrize("expression", ['$round("1.5")', "$round(1.5, true)", "$round(true)"])
def test_round_refuses_what_is_not_a_number(expression: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        compile_expression("=" + expression).evaluate(None, ctx={}, role="outputTransform")
    assert "$round needs a number" in raised.value.message
    assert "1.5" not in raised.value.message


def test_round_keeps_non_finite_results_as_given() -> None:
    assert js_round(1.5e308, 10) == 1.5e308
