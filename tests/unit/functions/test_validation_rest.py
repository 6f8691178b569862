"""Each rule of a REST function file fails with the right file, key and line."""

from __future__ import annotations

import pytest

from authgate.functions.errors import InvalidSolution
from authgate.functions.loader import load_solution

FILE = "functions/call.yaml"
HEAD = "provider: DATA_PROVIDER_REST\nmethod: GET\n"
URL = "url: https://api.example.com/v1/items\n"


def _problems(text: str) -> list[tuple[object, object, str]]:
    with pytest.raises(InvalidSolution) as caught:
        load_solution({"solution.yaml": "name: demo\n", FILE: text})
    problems = caught.value.details["problems"]
    assert all(p["file"] == FILE for p in problems)
    return [(p["key"], p["line"], str(p["problem"])) for p in problems]


def _single(text: str) -> tuple[object, object, str]:
    problems = _problems(text)
    assert len(problems) == 1, problems
    return problems[0]


CASES = [
    # (file text, key, line, words the problem must contain)
    ("method: GET\n" + URL, "provider", 1, "'provider' is required"),
    ("provider: DATA_PROVIDER_DYNAMIC\nmethod: GET\n" + URL, "provider", 1, "DATA_PROVIDER_REST"),
    ("provider: DATA_PROVIDER_REST\n" + URL, "method", 1, "'method' is required"),
    ("provider: DATA_PROVIDER_REST\nmethod: FETCH\n" + URL, "method", 2, "GET"),
    (HEAD, "url", 1, "'url' is required"),
    (HEAD + "url: /v1/items\n", "url", 3, "absolute"),
    (HEAD + "url: ftp://files.example.com/x\n", "url", 3, "https://"),
    (HEAD + "url: https://user:pw@api.example.com/x\n", "url", 3, "credential parameter"),
    (HEAD + "url: 'https://api.example.com/a b'\n", "url", 3, "spaces"),
    (HEAD + "url: https://api.example.com/" + "a" * 9000 + "\n", "url", 3, "longer"),
    (HEAD + "url: [https://api.example.com]\n", "url", 3, "must be text"),
    (HEAD + URL + "format: 'not a format'\n", "format", 4, "binary format"),
    (HEAD + URL + "useLocalCall: 'yes'\n", "useLocalCall", 4, "true or false"),
    (HEAD + URL + "disableTokenRefresh: 1\n", "disableTokenRefresh", 4, "true or false"),
    (HEAD + URL + "cacheTime: 30\n", "cacheTime", 4, "unknown key 'cacheTime'"),
    (HEAD + URL + "inputTransform:\n  a: 1\n", "inputTransform", 5, "must be text"),
    (HEAD + URL + "records: 12\n", "records", 4, "must be text"),
    (HEAD + URL + "parameters: [a, b]\n", "parameters", 4, "must be a mapping"),
    (HEAD + URL + "parameters:\n  id: 3\n", "parameters.id", 5, "must be a mapping"),
    (
        HEAD + URL + "parameters:\n  id:\n    location: query\n    default: 1\n",
        "parameters.id.default",
        7,
        "unknown key 'default'",
    ),
    (
        HEAD + URL + "parameters:\n  id:\n    location: input\n",
        "parameters.id.location",
        6,
        "must be one of",
    ),
    (
        HEAD + URL + "parameters:\n  id:\n    type: string\n",
        "parameters.id.location",
        5,
        "required",
    ),
    (
        HEAD + URL + "parameters:\n  id:\n    location: query\n    required: 'no'\n",
        "parameters.id.required",
        7,
        "true or false",
    ),
    (
        HEAD + URL + "parameters:\n  'X-Bad Header':\n    location: header\n",
        "parameters.X-Bad Header",
        5,
        "valid HTTP header name",
    ),
    (
        HEAD + URL + "parameters:\n  apiKey:\n    location: secret\n    type: string\n",
        "parameters.apiKey.value",
        5,
        "name of the stored credential",
    ),
    (
        HEAD + URL + "parameters:\n  apiKey:\n    location: credential\n    value: =$x\n",
        "parameters.apiKey.value",
        7,
        "name of the stored credential",
    ),
    (HEAD + URL + "error: {when: =true}\n", "error", 4, "must be a list"),
    (HEAD + URL + "error:\n  - retry\n", "error[0]", 5, "must be a mapping"),
    (HEAD + URL + "error:\n  - when: 'true'\n", "error[0].when", 5, "starting with '='"),
    (
        HEAD + URL + "error:\n  - when: =true\n    retry: {delay: 120000, maxRetries: 1}\n",
        "error[0].retry.delay",
        6,
        "between 0 and 60000",
    ),
    (
        HEAD + URL + "error:\n  - when: =true\n    retry: {delay: 10, maxRetries: 99}\n",
        "error[0].retry.maxRetries",
        6,
        "between 0 and 10",
    ),
    (
        HEAD + URL + "error:\n  - when: =true\n    retry: {delay: soon}\n",
        "error[0].retry.delay",
        6,
        "milliseconds",
    ),
    (
        HEAD + URL + "error:\n  - when: =true\n    retry: {delay: 1, tries: 2}\n",
        "error[0].retry.tries",
        6,
        "unknown key 'tries'",
    ),
    (HEAD + URL + "error:\n  - when: =true\n    title: [a]\n", "error[0].title", 6, "must be text"),
    (HEAD + URL + "continuation:\n  url: =$.next\n", "continuation.when", 4, "'when' is required"),
    (
        HEAD + URL + "continuation:\n  when: $.next\n  url: =$.next\n",
        "continuation.when",
        5,
        "starting with '='",
    ),
    (
        HEAD + URL + "continuation:\n  when: =$.next\n  url: next-page\n",
        "continuation.url",
        6,
        "absolute",
    ),
    (
        HEAD + URL + "continuation:\n  when: =$.next\n  url: =$.next\n  method: GET\n",
        "continuation.method",
        7,
        "unknown key 'method'",
    ),
]


@pytest.mark.parametrize(("text", "key", "line", "words"), CASES)
def test_rule_fails_with_file_key_and_line(text: str, key: str, line: int, words: str) -> None:
    found_key, found_line, problem = _single(text)
    assert (found_key, found_line) == (key, line)
    assert words in problem


def test_null_flags_mean_their_default() -> None:
    loaded = load_solution(
        {"solution.yaml": "name: demo\n", FILE: HEAD + URL + "forRowsWithMatchingIds: null\n"}
    )
    assert loaded.solution.functions["call"].for_rows_with_matching_ids is False


def test_placeholder_without_path_parameter() -> None:
    text = HEAD + "url: https://api.example.com/customers/{customerId}/orders\n"
    key, line, problem = _single(text)
    assert (key, line) == ("url", 3)
    assert "{customerId}" in problem
    assert "location: path" in problem


def test_placeholder_whose_parameter_is_not_a_path_parameter() -> None:
    text = (
        HEAD
        + "url: https://api.example.com/customers/{customerId}\n"
        + "parameters:\n  customerId:\n    location: query\n"
    )
    key, line, problem = _single(text)
    assert (key, line) == ("url", 3)
    assert "customerId" in problem


def test_path_parameter_without_placeholder() -> None:
    text = HEAD + URL + "parameters:\n  customerId:\n    type: string\n    location: path\n"
    key, line, problem = _single(text)
    assert (key, line) == ("parameters.customerId.location", 7)
    assert "{customerId}" in problem


def test_path_parameters_are_required() -> None:
    text = (
        HEAD
        + "url: https://api.example.com/customers/{id}\n"
        + "parameters:\n  id:\n    location: path\n    required: false\n"
    )
    key, line, problem = _single(text)
    assert (key, line) == ("parameters.id.required", 7)
    assert "always required" in problem


def test_path_parameter_without_required_is_required() -> None:
    text = (
        HEAD + "url: https://api.example.com/customers/{id}\nparameters:\n  id: {location: path}\n"
    )
    function = load_solution({"solution.yaml": "name: demo\n", FILE: text}).solution.functions
    assert function["call"].parameters["id"].required is True


def test_empty_placeholder() -> None:
    key, line, problem = _single(HEAD + "url: https://api.example.com/{}/x\n")
    assert (key, line) == ("url", 3)
    assert "empty" in problem


def test_continuation_placeholders_match_continuation_parameters() -> None:
    text = (
        HEAD
        + URL
        + "continuation:\n  when: =$.next\n  url: https://api.example.com/pages/{page}\n"
        + "  parameters:\n    cursor:\n      location: path\n"
    )
    problems = sorted(_problems(text), key=lambda p: str(p[0]))
    assert [(k, ln) for k, ln, _ in problems] == [
        ("continuation.parameters.cursor.location", 9),
        ("continuation.url", 6),
    ]


def test_expression_urls_are_not_checked_for_placeholders() -> None:
    text = HEAD + "url: =$ctx.parameters.base & '/x'\nparameters:\n  id: {location: path}\n"
    function = load_solution({"solution.yaml": "name: demo\n", FILE: text}).solution.functions
    assert function["call"].url.startswith("=")


def test_placeholder_may_stand_for_the_host_as_in_jigx() -> None:
    text = HEAD + "url: https://{host}/api\nparameters:\n  host: {location: path}\n"
    loaded = load_solution({"solution.yaml": "name: demo\n", FILE: text})
    assert loaded.solution.functions["call"].url == "https://{host}/api"


def test_computed_retry_delay_loads_with_a_warning() -> None:
    text = HEAD + URL + "error:\n  - when: =true\n    retry:\n      delay: =5 * 1000\n"
    loaded = load_solution({"solution.yaml": "name: demo\n", FILE: text})
    (warning,) = loaded.warnings
    assert (warning.key, warning.line) == ("error[0].retry.delay", 7)
    function = loaded.solution.functions["call"]
    (handler,) = function.error_handlers  # type: ignore[union-attr]
    assert handler.retry is not None
    assert (handler.retry.delay_ms, handler.retry.max_retries) == (5000, 3)


def test_every_problem_of_a_file_is_reported_together() -> None:
    text = (
        "provider: DATA_PROVIDER_REST\nmethod: FETCH\nurl: /relative\nformat: 'x y'\n"
        "useLocalCall: maybe\nbogus: 1\n"
    )
    keys = sorted(str(k) for k, _, _ in _problems(text))
    assert keys == ["bogus", "format", "method", "url", "useLocalCall"]


def test_problem_text_never_quotes_a_parameter_value_or_url() -> None:
    secret = "sk_live_51HcanaryCANARYcanary"
    text = (
        HEAD
        + f"url: https://user:{secret}@api.example.com/x\n"
        + f"parameters:\n  key:\n    location: secret\n    value: ={secret}\n"
    )
    with pytest.raises(InvalidSolution) as caught:
        load_solution({"solution.yaml": "name: demo\n", FILE: text})
    assert secret not in caught.value.message
    assert secret not in repr(caught.value.details)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("json", "json"), ("JSON", "json"), ("text", "text"), ("xml", "xml"), ("pdf", "binary")],
)
def test_formats(value: str, expected: str) -> None:
    loaded = load_solution(
        {"solution.yaml": "name: demo\n", FILE: HEAD + URL + f"format: {value}\n"}
    )
    function = loaded.solution.functions["call"]
    assert function.format.value == expected  # type: ignore[union-attr]
    assert function.format_name == value.lower()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("tail", "key", "line"),
    [
        ("records: =$.value[\n", "records", 4),
        ("outputTransform: '$.{\"a\": }'\n", "outputTransform", 4),
        ('inputTransform: |\n  $.{\n    "a": (\n  }\n', "inputTransform", 4),
        ("continuation:\n  when: =$.next ~> \n  url: =$.next\n", "continuation.when", 5),
        ("continuation:\n  when: =$.next\n  url: =$.next(\n", "continuation.url", 6),
        ("error:\n  - when: =@ctx.response.status = = 404\n", "error[0].when", 5),
        ('error:\n  - when: =true\n    description: ="open\n', "error[0].description", 6),
        (
            "parameters:\n  q:\n    location: query\n    value: =$uppercase(\n",
            "parameters.q.value",
            7,
        ),
    ],
)
def test_expressions_are_syntax_checked_where_they_are(tail: str, key: str, line: int) -> None:
    found_key, found_line, problem = _single(HEAD + URL + tail)
    assert (found_key, found_line) == (key, line)
    assert "expression" in problem


def test_jigx_context_expressions_load() -> None:
    text = (
        HEAD
        + URL
        + 'outputTransform: $.{"nextLink":`@odata.nextLink`,"items":value}\n'
        + "error:\n  - when: =@ctx.response.status = 404\n"
        + "    description: ='No item ' & @ctx.parameters.id\n"
    )
    loaded = load_solution({"solution.yaml": "name: demo\n", FILE: text})
    assert loaded.solution.functions["call"].output_transform.startswith("=$.{")  # type: ignore[union-attr]
