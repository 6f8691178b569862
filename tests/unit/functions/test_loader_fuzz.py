"""Arbitrary text never crashes the loader: it loads, or fails with InvalidSolution."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authgate.functions.errors import InvalidSolution
from authgate.functions.loader import load_solution

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces of real function files, so that the fuzzer reaches past the YAML parser.
_PIECES = [
    "provider: DATA_PROVIDER_REST\n",
    "provider: DATA_PROVIDER_SQL\n",
    "method: GET\n",
    "method: query\n",
    "method: execute\n",
    "url: https://api.example.com/{id}\n",
    "url: =$.next\n",
    "connection: sales.db\n",
    "query: SELECT @Id; \n",
    "procedure: sp_x\n",
    "parameters:\n  id:\n    location: path\n",
    "parameters:\n  Id: {location: input}\n",
    "parameters: [1]\n",
    "continuation:\n  when: =$.n\n  url: =$.n\n",
    "error:\n  - when: =true\n    retry: {delay: 5, maxRetries: 1}\n",
    "records: =$.value\n",
    "format: pdf\n",
    "useLocalCall: true\n",
    "&a x: *a\n",
    "  - ",
    ": ",
    "{",
    "'",
    "\t",
    "!!python/object:os.system\n",
]


def _attempt(files: dict[str, str]) -> None:
    problems = None
    try:
        loaded = load_solution(files)
    except InvalidSolution as error:
        problems = error.details["problems"]
    if problems is None:
        assert loaded.solution.name == "demo"
    else:
        assert problems
        assert all(set(p) == {"file", "key", "line", "problem"} for p in problems)


@SETTINGS
@given(st.text(max_size=400))
def test_arbitrary_function_text(text: str) -> None:
    _attempt({"solution.yaml": "name: demo\n", "functions/f.yaml": text})


@SETTINGS
@given(st.text(max_size=200))
def test_arbitrary_solution_text(text: str) -> None:
    _attempt({"solution.yaml": text})


@SETTINGS
@given(st.lists(st.sampled_from(_PIECES) | st.text(max_size=8), max_size=14).map("".join))
def test_function_like_text(text: str) -> None:
    _attempt({"solution.yaml": "name: demo\n", "functions/f.jigx": text})


@SETTINGS
@given(st.dictionaries(st.text(max_size=30), st.text(max_size=30), max_size=5))
def test_arbitrary_paths(files: dict[str, str]) -> None:
    problems: list[object] = ["loaded"]
    try:
        load_solution(files)
    except InvalidSolution as error:
        problems = error.details["problems"]
    assert problems
