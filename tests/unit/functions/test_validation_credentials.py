"""Publishing binds parameters to the organization's credentials, by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from authgate.functions.errors import InvalidSolution
from authgate.functions.folder import read_solution_folder
from authgate.functions.loader import load_solution
from authgate.functions.model import RestFunction, Solution
from authgate.functions.validation import bind_credentials

FIXTURES = Path(__file__).parents[2] / "fixtures" / "solutions"
ALL = frozenset({"microsoft.OAuth", "salesforce.oauth", "sales.azure"})


def _field_sales() -> Solution:
    return load_solution(read_solution_folder(FIXTURES / "field-sales")).solution


def _one(text: str) -> Solution:
    files = {"solution.yaml": "name: demo\n", "functions/call.yaml": text}
    return load_solution(files).solution


def test_header_values_naming_a_credential_are_bound() -> None:
    bound = bind_credentials(_field_sales(), ALL)
    graph = bound.functions["list-messages"]
    assert isinstance(graph, RestFunction)
    assert graph.parameters["accessToken"].credential == "microsoft.OAuth"
    assert graph.continuation is not None
    assert graph.continuation.parameters is not None
    assert graph.continuation.parameters["accessToken"].credential == "microsoft.OAuth"
    # Values that name no credential stay plain values.
    assert graph.parameters["$select"].credential is None
    salesforce = bound.functions["create-account"]
    assert salesforce.parameters["accessToken"].credential == "salesforce.oauth"
    assert salesforce.parameters["objectName"].credential is None
    assert bound.credential_names() == ALL


def test_binding_leaves_the_input_unchanged() -> None:
    solution = _field_sales()
    bind_credentials(solution, ALL)
    assert solution.functions["list-messages"].parameters["accessToken"].credential is None


def test_unbound_value_without_such_credential_is_not_a_problem() -> None:
    bound = bind_credentials(_field_sales(), frozenset({"sales.azure"}))
    assert bound.functions["list-messages"].parameters["accessToken"].credential is None


def test_expressions_are_never_bound_even_when_they_match_a_name() -> None:
    solution = _one(
        "provider: DATA_PROVIDER_REST\nmethod: GET\nurl: https://api.example.com/x\n"
        "parameters:\n  token: {location: header, value: =crm}\n"
    )
    bound = bind_credentials(solution, frozenset({"=crm", "crm"}))
    assert bound.functions["call"].parameters["token"].credential is None


def test_unknown_sql_connection_is_a_problem_naming_file_and_key() -> None:
    with pytest.raises(InvalidSolution) as caught:
        bind_credentials(_field_sales(), frozenset({"microsoft.OAuth", "salesforce.oauth"}))
    problems = {(p["file"], p["key"]) for p in caught.value.details["problems"]}
    assert problems == {
        ("functions/sql/find-customers.yaml", "connection"),
        ("functions/sql/upsert-customer.jigx", "connection"),
    }


@pytest.mark.parametrize("location", ["credential", "secret"])
def test_unknown_credential_or_secret_is_a_problem(location: str) -> None:
    solution = _one(
        "provider: DATA_PROVIDER_REST\nmethod: GET\nurl: https://api.example.com/x\n"
        f"parameters:\n  key: {{location: {location}, value: crm.api-key}}\n"
        "continuation:\n  when: =$.next\n  url: =$.next\n"
        f"  parameters:\n    key: {{location: {location}, value: other.key}}\n"
    )
    assert solution.functions["call"].parameters["key"].credential == "crm.api-key"
    with pytest.raises(InvalidSolution) as caught:
        bind_credentials(solution, frozenset({"crm.api-key"}))
    (problem,) = caught.value.details["problems"]
    assert (problem["file"], problem["key"]) == (
        "functions/call.yaml",
        "continuation.parameters.key.value",
    )
    assert bind_credentials(solution, frozenset({"crm.api-key", "other.key"})) is not None


def test_a_pasted_secret_is_never_echoed() -> None:
    canary = "sk_live_CANARY9f2e41"
    solution = _one(
        "provider: DATA_PROVIDER_REST\nmethod: GET\nurl: https://api.example.com/x\n"
        f"parameters:\n  key: {{location: secret, value: {canary}}}\n"
    )
    with pytest.raises(InvalidSolution) as caught:
        bind_credentials(solution, frozenset({"crm.key"}))
    assert "CANARY" not in caught.value.message
    assert "CANARY" not in repr(caught.value.details)


def test_a_connection_string_is_refused_without_being_echoed() -> None:
    canary = "Server=db;Password=CANARY-s3cr3t-9f2"
    with pytest.raises(InvalidSolution) as caught:
        _one(
            f"provider: DATA_PROVIDER_SQL\nmethod: query\nquery: SELECT 1\nconnection: '{canary}'\n"
        )
    (problem,) = caught.value.details["problems"]
    assert (problem["key"], problem["line"]) == ("connection", 4)
    assert "CANARY" not in caught.value.message
    assert "CANARY" not in repr(caught.value.details)
