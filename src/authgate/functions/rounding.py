"""``$round`` with the reference JSONata's meaning (jsonata-js ``functions.js`` ``round``).

Jigx evaluates functions with the JavaScript ``jsonata``. Its ``$round(n, p)`` shifts the
decimal point by rewriting the number's shortest decimal spelling (``"412.025e2"``), so it
rounds the number as written, half to even; jsonata-python rounds the exact binary value
instead, and ``$round(494.43 / 1.2, 2)`` comes out 412.03 there but 412.02 in Jigx. A function
must mean the same in both, so authgate binds this ``$round`` over the evaluator's.
"""

from __future__ import annotations

import math

from authgate.functions.errors import ExpressionError


def _shift(value: float, places: int) -> float:
    # Both Python's repr and JavaScript's Number#toString give the shortest decimal digits
    # that read back as the same double; only their spelling of exponents differs.
    mantissa, _, exponent = repr(float(value)).partition("e")
    return float(f"{mantissa}e{int(exponent or 0) + places}")


def js_round(value: object = None, precision: object = None) -> float | int | None:
    """``$round(value, precision)`` as jsonata-js computes it; ``None`` for undefined."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ExpressionError("$round needs a number as its first argument")
    if precision is not None and (
        isinstance(precision, bool) or not isinstance(precision, int | float)
    ):
        raise ExpressionError("$round needs a number as its precision")
    places = int(precision) if precision else 0
    number = _shift(value, places) if places else float(value)
    if not math.isfinite(number):
        return value
    result = float(math.floor(number))
    if number - result >= 0.5:  # JavaScript's Math.round: halves go up
        result += 1
    if abs(result - number) == 0.5 and result % 2 == 1:
        result -= 1  # rounded away from the even neighbour: JSONata rounds half to even
    if places:
        result = _shift(result, -places)
    return 0 if result == 0 else result
