"""Loading solution folders: real Jigx-style files load unchanged, with their meaning."""

from __future__ import annotations

from pathlib import Path

import pytest

from authgate.functions.errors import InvalidSolution
from authgate.functions.folder import read_solution_folder
from authgate.functions.loader import LoadedSolution, load_solution
from authgate.functions.model import (
    ParameterLocation,
    ParameterType,
    ResponseFormat,
    RestFunction,
    SqlFunction,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "solutions"
HEADER = "name: demo\n"


def _field_sales() -> LoadedSolution:
    return load_solution(read_solution_folder(FIXTURES / "field-sales"))


def _problems(files: dict[str, str]) -> list[dict[str, object]]:
    with pytest.raises(InvalidSolution) as caught:
        load_solution(files)
    problems: list[dict[str, object]] = caught.value.details["problems"]
    return problems


def test_solution_header_is_read() -> None:
    solution = _field_sales().solution
    assert solution.name == "field-sales"
    assert solution.title == "Field Sales"
    assert solution.description == "Accounts, contacts and mail for the field sales team."


def test_every_function_file_under_functions_is_one_function_named_after_it() -> None:
    solution = _field_sales().solution
    assert sorted(solution.functions) == [
        "create-account",
        "find-customers",
        "list-messages",
        "profile-photo",
        "upsert-customer",
    ]
    assert solution.functions["list-messages"].source == "functions/graph/list-messages.jigx"


def test_graph_list_with_records_and_odata_continuation() -> None:
    function = _field_sales().solution.functions["list-messages"]
    assert isinstance(function, RestFunction)
    assert function.method == "GET"
    assert function.url == "https://graph.microsoft.com/v1.0/me/mailFolders/inbox/messages"
    assert function.use_local_call is True
    assert function.for_rows_with_matching_ids is True
    assert function.records == "=$.value"
    # Jigx writes transforms without '='; the model keeps them as expressions.
    assert function.output_transform == "=$"
    assert function.continuation is not None
    assert function.continuation.when == '=$."@odata.nextLink"'
    assert function.continuation.url == '=$."@odata.nextLink"'
    assert function.continuation.parameters is not None
    assert list(function.continuation.parameters) == ["accessToken"]
    top = function.parameters["$top"]
    assert (top.location, top.type, top.required, top.value) == (
        ParameterLocation.QUERY,
        ParameterType.NUMBER,
        False,
        50,
    )
    token = function.parameters["accessToken"]
    assert (token.location, token.value, token.credential) == (
        ParameterLocation.HEADER,
        "microsoft.OAuth",
        None,  # bound to the vault at publish time, see bind_credentials
    )


def test_salesforce_create_with_input_transform_and_error_handlers() -> None:
    function = _field_sales().solution.functions["create-account"]
    assert isinstance(function, RestFunction)
    assert function.method == "POST"
    assert function.input_transform is not None
    assert function.input_transform.startswith("=$.{")
    assert '"NumberOfEmployees": employees' in function.input_transform
    assert function.output_transform == '={"id": id, "created": success}'
    assert function.parameters["objectName"].location is ParameterLocation.PATH
    assert function.parameters["objectName"].value == "Account"
    assert function.parameters["employees"].type is ParameterType.INTEGER
    # A Jigx authentication kind as a header's type is read as text, without a warning.
    assert function.parameters["accessToken"].type is ParameterType.STRING
    first, second = function.error_handlers
    assert first.when == "=@ctx.response.status = 400"
    assert first.title == "Account not created"
    assert first.description == "=@ctx.response.body[0].message"
    assert first.retry is None
    assert second.retry is not None
    assert (second.retry.delay_ms, second.retry.max_retries) == (2000, 2)


def test_sql_query_with_placeholders() -> None:
    function = _field_sales().solution.functions["find-customers"]
    assert isinstance(function, SqlFunction)
    assert function.connection == "sales.azure"
    assert function.method == "query"
    assert function.query is not None
    assert "WHERE first_name LIKE @FirstName" in function.query
    assert function.procedure is None
    assert [p.location for p in function.parameters.values()] == [ParameterLocation.INPUT] * 2
    assert function.for_rows_with_matching_ids is True


def test_sql_execute_with_output_parameters_and_jigx_empty_query() -> None:
    function = _field_sales().solution.functions["upsert-customer"]
    assert isinstance(function, SqlFunction)
    assert function.method == "execute"
    assert function.procedure == "dbo.sp_UpsertCustomer"
    assert function.query is None
    outputs = [n for n, p in function.parameters.items() if p.location is ParameterLocation.OUTPUT]
    assert outputs == ["Created", "RowVersion"]
    assert function.parameters["Created"].type is ParameterType.BOOLEAN


def test_binary_format_keeps_its_name() -> None:
    function = _field_sales().solution.functions["profile-photo"]
    assert isinstance(function, RestFunction)
    assert (function.format, function.format_name) == (ResponseFormat.BINARY, "png")
    assert function.output_transform == '=$.{"data":$.data}'


def test_known_jigx_features_load_with_warnings_that_name_them() -> None:
    warnings = {(w.file, w.key): str(w) for w in _field_sales().warnings}
    assert ("functions/files/profile-photo.jigx", "conversions") in warnings
    assert "conversions" in warnings[("functions/files/profile-photo.jigx", "conversions")]
    assert ("functions/salesforce/create-account.yaml", "error[1].icon") in warnings
    assert ("functions/salesforce/create-account.yaml", "error[1].notification") in warnings
    assert ("functions/README.md", None) in warnings


def test_warning_text_names_file_line_and_key() -> None:
    files = {
        "solution.yaml": HEADER,
        "functions/list.yaml": (
            "provider: DATA_PROVIDER_REST\nmethod: GET\nurl: https://api.example.com/x\n"
            "forRowsWithValues:\n  id: 1\n"
        ),
    }
    (warning,) = load_solution(files).warnings
    assert str(warning).startswith("functions/list.yaml:4 forRowsWithValues: ")
    assert warning.line == 4


def test_files_outside_functions_are_not_read() -> None:
    files = {
        "solution.yaml": HEADER,
        "jigs/home.jigx": "this: [is not: valid",
        "index.jigx": "name: other",
    }
    loaded = load_solution(files)
    assert loaded.solution.functions == {}
    assert loaded.warnings == ()


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".jigx", ".JIGX"])
def test_every_function_suffix_is_read(suffix: str) -> None:
    files = {
        "solution.yaml": HEADER,
        f"functions/a/b/list{suffix}": (
            "provider: DATA_PROVIDER_REST\nmethod: get\nurl: https://api.example.com/x\n"
        ),
    }
    function = load_solution(files).solution.functions["list"]
    assert isinstance(function, RestFunction)
    assert function.method == "GET"


def test_two_files_with_one_stem_is_an_error_naming_both() -> None:
    rest = "provider: DATA_PROVIDER_REST\nmethod: GET\nurl: https://api.example.com/x\n"
    problems = _problems(
        {"solution.yaml": HEADER, "functions/list.yaml": rest, "functions/old/list.jigx": rest}
    )
    (problem,) = problems
    assert "functions/list.yaml" in str(problem["problem"])
    assert "functions/old/list.jigx" in str(problem["problem"])


def test_message_lists_every_problem_readably() -> None:
    with pytest.raises(InvalidSolution) as caught:
        load_solution(
            {
                "solution.yaml": "name: Not A Slug\n",
                "functions/a.yaml": "provider: DATA_PROVIDER_REST\nmethod: FETCH\nurl: https://x.example\n",
            }
        )
    message = caught.value.message
    assert "2 problems" in message
    assert "functions/a.yaml:2 method:" in message
    assert "solution.yaml:1 name:" in message
    assert caught.value.status == 422
    assert caught.value.code == "invalid_solution"
