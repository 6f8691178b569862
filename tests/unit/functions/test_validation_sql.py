"""Each rule of a SQL function file fails with the right file, key and line."""

from __future__ import annotations

import pytest

from authgate.functions.errors import InvalidSolution
from authgate.functions.loader import load_solution
from authgate.functions.model import ParameterLocation, SqlFunction
from authgate.functions.validation_sql_text import scan_sql

FILE = "functions/sql/run.jigx"
HEAD = "provider: DATA_PROVIDER_SQL\nconnection: sales.azure\n"


def _load(text: str) -> SqlFunction:
    function = load_solution({"solution.yaml": "name: demo\n", FILE: text}).solution.functions[
        "run"
    ]
    assert isinstance(function, SqlFunction)
    return function


def _problems(text: str) -> list[tuple[object, object, str]]:
    with pytest.raises(InvalidSolution) as caught:
        load_solution({"solution.yaml": "name: demo\n", FILE: text})
    problems = caught.value.details["problems"]
    assert all(p["file"] == FILE for p in problems)
    return [(p["key"], p["line"], str(p["problem"])) for p in problems]


QUERY = "method: query\nquery: SELECT id FROM customers WHERE city = @City\n"
CITY = "parameters:\n  City:\n    type: string\n    location: input\n"

CASES = [
    ("provider: DATA_PROVIDER_SQL\n" + QUERY + CITY, "connection", 1, "'connection' is required"),
    (HEAD + "query: SELECT 1\n", "method", 1, "'method' is required"),
    (HEAD + "method: select\nquery: SELECT 1\n", "method", 3, "query or execute"),
    (HEAD + "method: query\n", "query", 1, "'query' is required"),
    (HEAD + "method: query\nquery: '  -- nothing\n\n  '\n", "query", 4, "no SQL statement"),
    (HEAD + "method: query\nquery: SELECT 1; SELECT 2\n", "query", 4, "one statement"),
    (
        HEAD + "method: query\nquery: |\n  SELECT 1;\n  DELETE FROM t\n",
        "query",
        4,
        "one statement",
    ),
    (HEAD + "method: query\nquery: SELECT 'open\n", "query", 4, "unterminated string literal"),
    (HEAD + "method: query\nquery: SELECT @Name\n", "query", 4, "'@Name' needs a parameter"),
    (
        HEAD + "method: query\nquery: SELECT @Name\nparameters:\n  Name: {location: output}\n",
        "parameters.Name.location",
        6,
        "'method: execute'",
    ),
    (
        HEAD + "method: query\nquery: SELECT 1\nparameters:\n  Unused: {location: input}\n",
        "parameters.Unused",
        6,
        "not used",
    ),
    (
        HEAD + "method: query\nquery: SELECT 1\nparameters:\n  Id: {location: header}\n",
        "parameters.Id.location",
        6,
        "input, output",
    ),
    (
        HEAD + "method: query\nquery: SELECT 1\nparameters:\n  bad-name: {location: input}\n",
        "parameters.bad-name",
        6,
        "letters, digits and '_'",
    ),
    (
        HEAD + "method: query\nquery: SELECT 1\nprocedure: sp_x\n",
        "procedure",
        5,
        "'method: execute'",
    ),
    (HEAD + "method: execute\n", "procedure", 1, "'procedure' is required"),
    (
        HEAD + "method: execute\nprocedure: 'sp_x; DROP TABLE t'\n",
        "procedure",
        4,
        "stored procedure name",
    ),
    (
        HEAD + "method: execute\nquery: SELECT 1\nprocedure: sp_x\n",
        "query",
        4,
        "leave 'query' out",
    ),
    (HEAD + QUERY + CITY + "useLocalCall: true\n", "useLocalCall", 9, "always run in the cloud"),
    (HEAD + QUERY + CITY + "url: https://x.example\n", "url", 9, "REST functions only"),
    (HEAD + QUERY + CITY + "continuation: {}\n", "continuation", 9, "REST functions only"),
    (HEAD + QUERY + CITY + "timeout: 5\n", "timeout", 9, "unknown key 'timeout'"),
    (
        "provider: DATA_PROVIDER_SQL\nconnection: ' padded '\n" + QUERY + CITY,
        "connection",
        2,
        "stored connection",
    ),
]


@pytest.mark.parametrize(("text", "key", "line", "words"), CASES)
def test_rule_fails_with_file_key_and_line(text: str, key: str, line: int, words: str) -> None:
    problems = _problems(text)
    assert len(problems) == 1, problems
    found_key, found_line, problem = problems[0]
    assert (found_key, found_line) == (key, line)
    assert words in problem


def test_use_local_call_false_is_accepted_on_sql() -> None:
    assert _load(HEAD + QUERY + CITY + "useLocalCall: false\n").connection == "sales.azure"


def test_method_is_case_insensitive_as_in_jigx_docs() -> None:
    assert _load(HEAD + "method: EXECUTE\nprocedure: sp_x\n").method == "execute"


def test_both_location_loads_as_input_with_a_warning() -> None:
    text = HEAD + "method: execute\nprocedure: sp_x\nparameters:\n  Total: {location: both}\n"
    loaded = load_solution({"solution.yaml": "name: demo\n", FILE: text})
    function = loaded.solution.functions["run"]
    assert function.parameters["Total"].location is ParameterLocation.INPUT
    (warning,) = loaded.warnings
    assert (warning.key, warning.line) == ("parameters.Total.location", 6)


def test_placeholders_in_literals_comments_and_system_variables_are_ignored() -> None:
    text = (
        HEAD
        + "method: query\nquery: |\n"
        + "  SELECT '@NotOne', \"@Nor\", [@This] -- @Comment\n"
        + "  FROM t /* @Block; */ WHERE x = @Real AND @@ROWCOUNT > 0;\n"
        + "parameters:\n  Real: {location: input, type: number}\n"
    )
    assert list(_load(text).parameters) == ["Real"]


@pytest.mark.parametrize(
    ("query", "placeholders", "several"),
    [
        ("SELECT @A, @B, @A", ("A", "B"), False),
        ("SELECT 'it''s @x;'", (), False),
        ("SELECT [a]]b;@x]", (), False),
        ("SELECT `@x;`", (), False),
        ("SELECT $$ ; @x $$", (), False),
        ("SELECT $fn$ ; @x $fn$, @y", ("y",), False),
        ("SELECT 1 /* a /* nested ; */ still ; */", (), False),
        ("SELECT 1 -- ; @x\n", (), False),
        ("SELECT 1;\n-- trailing comment\n", (), False),
        ("SELECT 1;;", (), False),
        ("SELECT 1; /* c */ DROP TABLE x", (), True),
        ("SELECT 1;'x'", (), True),
        ("SELECT @@IDENTITY, @@ROWCOUNT", (), False),
        ("SELECT data @> '{}' FROM t", (), False),
    ],
)
def test_scanner(query: str, placeholders: tuple[str, ...], several: bool) -> None:
    scan = scan_sql(query)
    assert scan.problem is None
    assert scan.placeholders == placeholders
    assert scan.several_statements is several


@pytest.mark.parametrize(
    ("query", "what"),
    [
        ("SELECT 'x", "string literal"),
        ('SELECT "x', "quoted identifier"),
        ("SELECT [x", "[identifier]"),
        ("SELECT `x", "`identifier`"),
        ("SELECT $$x", "dollar-quoted string"),
        ("SELECT 1 /* /* */", "/* comment"),
    ],
)
def test_scanner_reports_unterminated(query: str, what: str) -> None:
    problem = scan_sql(query).problem
    assert problem is not None
    assert what in problem
