"""The stored document round-trips exactly; the device's definition holds no SQL or secrets."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authgate.functions.errors import InvalidSolutionDocument
from authgate.functions.folder import read_solution_folder
from authgate.functions.loader import load_solution
from authgate.functions.model import (
    Continuation,
    ErrorHandler,
    Parameter,
    ParameterLocation,
    ParameterType,
    ResponseFormat,
    RestFunction,
    Retry,
    Solution,
    SqlFunction,
)
from authgate.functions.serialize import (
    public_definition,
    solution_from_document,
    solution_to_document,
)
from authgate.functions.validation import bind_credentials

FIXTURES = Path(__file__).parents[2] / "fixtures" / "solutions"
NAMES = frozenset({"microsoft.OAuth", "salesforce.oauth", "sales.azure"})


def _published() -> Solution:
    loaded = load_solution(read_solution_folder(FIXTURES / "field-sales"))
    return bind_credentials(loaded.solution, NAMES)


def _through_json(document: dict[str, Any]) -> Any:
    return json.loads(json.dumps(document, allow_nan=False))


# --- strategies --------------------------------------------------------------------------

_names = st.text(string.ascii_letters + string.digits + "-_$.", min_size=1, max_size=12)
_text = st.text(max_size=20)
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)


def _parameters() -> st.SearchStrategy[dict[str, Parameter]]:
    def build(entries: dict[str, tuple[Any, ...]]) -> dict[str, Parameter]:
        return {name: Parameter(name, *fields) for name, fields in entries.items()}

    fields = st.tuples(
        st.sampled_from(ParameterLocation),
        st.sampled_from(ParameterType),
        st.booleans(),
        _json,
        st.none() | _names,
    )
    return st.dictionaries(_names, fields, max_size=4).map(build)


_expr = st.none() | _text.map(lambda text: "=" + text)
_retry = st.none() | st.builds(
    Retry, delay_ms=st.integers(0, 60_000), max_retries=st.integers(0, 10)
)
_handler = st.builds(
    ErrorHandler,
    when=_expr,
    title=st.none() | _text,
    description=_expr,
    details=_expr,
    retry=_retry,
)
_continuation = st.none() | st.builds(
    Continuation, when=_text, url=_text, parameters=st.none() | _parameters()
)


@st.composite
def _rest(draw: st.DrawFn, name: str) -> RestFunction:
    return RestFunction(
        name=name,
        source=draw(_text),
        method=draw(st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])),
        url=draw(_text),
        format=draw(st.sampled_from(ResponseFormat)),
        format_name=draw(_names),
        use_local_call=draw(st.booleans()),
        parameters=draw(_parameters()),
        input_transform=draw(_expr),
        output_transform=draw(_text),
        records=draw(_expr),
        continuation=draw(_continuation),
        error_handlers=tuple(draw(st.lists(_handler, max_size=3))),
        for_rows_with_matching_ids=draw(st.booleans()),
        disable_token_refresh=draw(st.booleans()),
    )


@st.composite
def _sql(draw: st.DrawFn, name: str) -> SqlFunction:
    return SqlFunction(
        name=name,
        source=draw(_text),
        connection=draw(_names),
        method=draw(st.sampled_from(["query", "execute"])),
        query=draw(st.none() | _text),
        procedure=draw(st.none() | _names),
        parameters=draw(_parameters()),
        output_transform=draw(_text),
        records=draw(_expr),
        for_rows_with_matching_ids=draw(st.booleans()),
    )


@st.composite
def solutions(draw: st.DrawFn) -> Solution:
    names = draw(st.lists(_names, unique=True, max_size=4))
    functions = {name: draw(_rest(name) | _sql(name)) for name in names}
    return Solution(
        name=draw(_names),
        title=draw(st.none() | _text),
        description=draw(st.none() | _text),
        functions=functions,
    )


# --- the stored document -----------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(solutions())
def test_round_trip_is_exact(solution: Solution) -> None:
    document = solution_to_document(solution)
    assert solution_from_document(_through_json(document)) == solution
    assert solution_from_document(document) == solution


@settings(max_examples=50, deadline=None)
@given(solutions())
def test_equal_solutions_give_identical_documents(solution: Solution) -> None:
    again = solution_from_document(_through_json(solution_to_document(solution)))
    assert json.dumps(solution_to_document(again)) == json.dumps(solution_to_document(solution))


def test_fixture_round_trips_and_keys_are_in_a_fixed_order() -> None:
    solution = _published()
    document = solution_to_document(solution)
    assert solution_from_document(_through_json(document)) == solution
    assert list(document) == ["format", "name", "title", "description", "functions"]
    assert list(document["functions"]["find-customers"]) == [
        "provider",
        "source",
        "connection",
        "method",
        "query",
        "procedure",
        "parameters",
        "outputTransform",
        "records",
        "forRowsWithMatchingIds",
    ]
    graph = document["functions"]["list-messages"]
    assert graph["continuation"]["parameters"]["accessToken"]["credential"] == "microsoft.OAuth"


def _document() -> dict[str, Any]:
    result: dict[str, Any] = _through_json(solution_to_document(_published()))
    return result


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda d: d.update(format=2),
        lambda d: d.pop("functions"),
        lambda d: d.update(functions=[]),
        lambda d: d["functions"]["list-messages"].update(provider="DATA_PROVIDER_FTP"),
        lambda d: d["functions"]["list-messages"].update(useLocalCall=1),
        lambda d: d["functions"]["list-messages"].update(format="yaml"),
        lambda d: d["functions"]["list-messages"]["parameters"]["$top"].update(location="cookie"),
        lambda d: d["functions"]["list-messages"]["parameters"]["$top"].pop("value"),
        lambda d: d["functions"]["create-account"]["error"][1]["retry"].update(delayMs=True),
        lambda d: d["functions"]["create-account"]["error"].append("retry"),
        lambda d: d["functions"]["find-customers"].update(connection=None),
    ],
)
def test_a_corrupt_document_is_refused(corrupt: Any) -> None:
    document = _document()
    corrupt(document)
    with pytest.raises(InvalidSolutionDocument) as caught:
        solution_from_document(document)
    assert caught.value.status == 500


# --- what a device receives --------------------------------------------------------------


def test_device_definition_has_no_sql_and_no_connection() -> None:
    public = public_definition(_published())
    text = json.dumps(public, allow_nan=False)
    assert "SELECT" not in text
    assert "sp_UpsertCustomer" not in text
    assert "sales.azure" not in text
    for name in ("find-customers", "upsert-customer"):
        function = public["functions"][name]
        assert set(function) == {"provider", "parameters", "forRowsWithMatchingIds"}
    outputs = public["functions"]["upsert-customer"]["parameters"]
    assert outputs["Created"] == {
        "location": "output",
        "type": "boolean",
        "required": False,
        "value": None,
    }


def test_device_gets_everything_a_local_function_needs_with_credential_names_only() -> None:
    public = public_definition(_published())
    graph = public["functions"]["list-messages"]
    assert graph["useLocalCall"] is True
    assert graph["url"] == "https://graph.microsoft.com/v1.0/me/mailFolders/inbox/messages"
    assert graph["records"] == "=$.value"
    assert graph["continuation"]["when"] == '=$."@odata.nextLink"'
    assert graph["parameters"]["accessToken"] == {
        "location": "header",
        "type": "string",
        "required": True,
        "credential": "microsoft.OAuth",
    }
    assert graph["continuation"]["parameters"]["accessToken"]["credential"] == "microsoft.OAuth"
    assert "value" not in graph["continuation"]["parameters"]["accessToken"]
    assert graph["parameters"]["$top"]["value"] == 50
    assert "source" not in graph


def test_device_gets_only_the_signature_of_a_cloud_function() -> None:
    public = public_definition(_published())
    cloud = public["functions"]["create-account"]
    assert cloud["useLocalCall"] is False
    assert "url" not in cloud
    assert "inputTransform" not in cloud
    assert "error" not in cloud
    assert cloud["parameters"]["accessToken"]["credential"] == "salesforce.oauth"
    assert cloud["parameters"]["name"]["required"] is True


@settings(max_examples=100, deadline=None)
@given(solutions())
def test_device_definition_is_json_and_never_carries_sql(solution: Solution) -> None:
    public = json.loads(json.dumps(public_definition(solution), allow_nan=False))
    for name, function in solution.functions.items():
        shown = public["functions"][name]
        if isinstance(function, SqlFunction):
            assert set(shown) == {"provider", "parameters", "forRowsWithMatchingIds"}
        for parameter_name, parameter in function.parameters.items():
            entry = shown["parameters"][parameter_name]
            if parameter.credential is not None:
                assert "value" not in entry
                assert entry["credential"] == parameter.credential
