"""Function files are untrusted YAML: parsed safely, bounded, and every refusal located."""

from __future__ import annotations

import pytest

from authgate.functions.errors import InvalidSolution
from authgate.functions.loader import load_solution
from authgate.functions.yaml_source import (
    MAX_DEPTH,
    MAX_NODES,
    YamlSyntaxError,
    YMap,
    YScalar,
    parse_yaml,
    to_plain,
)

FILE = "functions/f.yaml"


def _refusal(text: str) -> YamlSyntaxError:
    with pytest.raises(YamlSyntaxError) as caught:
        parse_yaml(text)
    return caught.value


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("a: 1\nb: &anchor 2\nc: *anchor\n", 2, "anchors and aliases"),
        ("a: *missing\n", 1, "anchors and aliases"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: [*b, *b, *b, *b, *b, *b, *b, *b]\n",
            1,
            "anchors and aliases",
        ),
        ("a: !!python/object/apply:os.system ['true']\n", 1, "explicit tags"),
        ("a: !!python/name:builtins.eval ''\n", 1, "explicit tags"),
        ("a: !custom x\n", 1, "explicit tags"),
        ("a: !!binary aGVsbG8=\n", 1, "explicit tags"),
        ("a: !!set {x}\n", 1, "explicit tags"),
        ("a: 1\nb:\n  c: 1\n  c: 2\n", 4, "appears twice"),
        ("a: .inf\n", 1, "finite"),
        ("a: -.Inf\n", 1, "finite"),
        ("a: .nan\n", 1, "finite"),
        ("? [complex]\n: value\n", 1, "plain text"),
        ("<<: {a: 1}\nb: 2\n", 1, "merge keys"),
        ("a: 1\n---\nb: 2\n", 2, "another document"),
        ("a: [1, 2\n", 2, ""),
        ("a: 1\nb: \x07\n", 2, "character"),
        ("a: 1\n\tb: 2\n", 2, ""),
    ],
)
def test_refusals_are_located(text: str, line: int, words: str) -> None:
    refusal = _refusal(text)
    assert refusal.line == line
    assert words in refusal.problem


def test_nesting_is_bounded() -> None:
    deep = "a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n"
    assert "deeper than" in _refusal(deep).problem
    fine = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert isinstance(parse_yaml(fine), YMap)


def test_node_count_is_bounded() -> None:
    huge = "a: [" + ", ".join(["1"] * MAX_NODES) + "]\n"
    assert "more than" in _refusal(huge).problem


def test_scalars_are_json_compatible_and_keys_stay_text() -> None:
    node = parse_yaml(
        "text: hello\nnumber: 3\nfloat: 2.5\nflag: yes\nnothing: ~\nday: 2024-05-01\n"
        "200: status\ntrue: key\nlist: [1, two]\nstr: !!str 12\n"
    )
    assert node is not None
    assert to_plain(node) == {
        "text": "hello",
        "number": 3,
        "float": 2.5,
        "flag": True,  # YAML 1.1, as Jigx's YAML reads it
        "nothing": None,
        "day": "2024-05-01",
        "200": "status",
        "true": "key",
        "list": [1, "two"],
        "str": "12",
    }


def test_lines_are_one_based_for_keys_and_values() -> None:
    node = parse_yaml("# comment\nfirst: 1\nsecond:\n  nested: |\n    text\n")
    assert isinstance(node, YMap)
    assert node.entries["first"].key_line == 2
    second = node.entries["second"].value
    assert isinstance(second, YMap)
    assert second.entries["nested"].key_line == 4
    assert isinstance(second.entries["nested"].value, YScalar)


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n"])
def test_empty_documents(text: str) -> None:
    assert parse_yaml(text) is None


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", None, "empty"),
        ("- a\n- b\n", 1, "not a list"),
        ("just text\n", 1, "not text"),
        ("a: &x 1\nb: *x\n", 1, "anchors"),
        ("provider: [\n", 2, "not valid YAML"),
    ],
)
def test_file_level_refusals_name_the_file(text: str, line: int | None, words: str) -> None:
    with pytest.raises(InvalidSolution) as caught:
        load_solution({"solution.yaml": "name: demo\n", FILE: text})
    (problem,) = caught.value.details["problems"]
    assert (problem["file"], problem["key"], problem["line"]) == (FILE, None, line)
    assert words in problem["problem"]
