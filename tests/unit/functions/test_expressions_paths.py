"""Field-path expressions are answered without the evaluator, with the evaluator's answers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonata import Jsonata  # type: ignore[import-untyped]

from authgate.functions.expressions import _plain, compile_expression, simple_path


@pytest.mark.parametrize(
    ("source", "path"),
    [
        ("$", ()),
        (" $ ", ()),
        ("$.value", ("value",)),
        ("value", ("value",)),
        ('$."@odata.nextLink"', ("@odata.nextLink",)),
        ("a.b.c", ("a", "b", "c")),
        ("$.a . b", ("a", "b")),
        ("`a b`.c", ("a b", "c")),
    ],
)
def test_field_paths_are_recognised(source: str, path: tuple[str, ...]) -> None:
    assert simple_path(source) == path


@pytest.mark.parametrize(
    "source",
    [
        '"hello"',  # a string literal, not a field
        "$.value[0]",
        "$.and",
        "true",
        "$ctx",
        "$ctx.user",
        "@ctx.user.id",
        "$.a + 1",
        "$sum(x)",
        "$.a.*",
        "**.a",
        '$."a\\"b"',
        "",
    ],
)
def test_everything_else_goes_to_the_evaluator(source: str) -> None:
    assert simple_path(source) is None


def reference(source: str, document: Any) -> Any:
    return _plain(Jsonata(source).evaluate(document))


NAMES = st.sampled_from(["value", "a", "b", "@odata.nextLink", "x y"])
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(-2, 2, allow_nan=False)
    | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
    max_leaves=12,
)


def spelled(steps: list[str], dollar: bool) -> str:
    parts = [f'"{step}"' if not step.isidentifier() else step for step in steps]
    if dollar or not steps or not steps[0].isidentifier():
        return ".".join(["$", *parts])
    return ".".join(parts)


@settings(max_examples=300, deadline=None)
@given(document=JSON, steps=st.lists(NAMES, max_size=3), dollar=st.booleans())
def test_the_fast_answer_is_the_evaluators(document: Any, steps: list[str], dollar: bool) -> None:
    source = spelled(steps, dollar)
    assert simple_path(source) is not None, source
    fast = compile_expression("=" + source).evaluate(document, ctx={})
    slow = reference(source, document)
    assert fast == slow
    assert type(fast) is type(slow)
