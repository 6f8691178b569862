"""Parameters: types, required values, defaults, unknown names and credential overrides."""

from __future__ import annotations

from typing import Any

import pytest

from authgate.functions.errors import CredentialParameterRefused, InvalidFunctionArguments
from authgate.functions.model import Continuation, RestFunction
from tests.unit.functions.engine_fakes import (
    CONTEXT,
    MemoryCredentials,
    credential,
    harness,
    param,
    response,
)

CANARY = "canary-caller-value-3e1d"
TOKEN = "canary-stored-token-0b8f"


def orders(**extra: Any) -> RestFunction:
    return RestFunction(
        name="list-orders",
        source="functions/list-orders.yaml",
        method="GET",
        url="https://api.example.com/v2/customers/{customerId}/orders",
        parameters=dict(
            [
                param("customerId", "path", required=True),
                param("$top", "query", "number", value=50),
                param("status", "query"),
                param("paid", "query", "boolean"),
                param("tags", "query", "array"),
                param("page", "query", "int"),
                param("filter", "body", "object"),
                param("accessToken", "header", required=True, credential="crm.oauth"),
                param("apiKey", "secret", credential="crm.key"),
            ]
        ),
        **extra,
    )


def credentials() -> MemoryCredentials:
    return MemoryCredentials(credential("crm.oauth", TOKEN))


async def call(arguments: dict[str, Any], function: RestFunction | None = None) -> Any:
    h = harness(response(200, []))
    await h.engine.call(function or orders(), arguments, context=CONTEXT, credentials=credentials())
    return h.upstream.requests[0]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("customerId", 42, "a string"),
        ("customerId", ["c1"], "a string"),
        ("$top", "50", "a number"),
        ("$top", True, "a number"),
        ("paid", "true", "true or false"),
        ("paid", 1, "true or false"),
        ("tags", "a,b", "an array"),
        ("tags", {"a": 1}, "an array"),
        ("page", 1.5, "an integer"),
        ("page", "2", "an integer"),
        ("filter", [CANARY], "an object"),
    ],
)
async def test_a_mistyped_value_is_refused_naming_the_parameter_not_the_value(
    name: str, value: Any, expected: str
) -> None:
    arguments = {"customerId": "c1", name: value}
    if isinstance(value, str):
        arguments[name] = CANARY if name != "$top" else value
    with pytest.raises(InvalidFunctionArguments) as raised:
        await call(arguments)
    assert raised.value.status == 400
    assert repr(name) in raised.value.message
    assert expected in raised.value.message
    assert CANARY not in raised.value.message


@pytest.mark.parametrize(
    ("name", "value"),
    [("$top", 5), ("$top", 2.5), ("page", 3), ("page", 3.0), ("paid", False), ("tags", [])],
)
async def test_well_typed_values_are_accepted(name: str, value: Any) -> None:
    request = await call({"customerId": "c1", name: value})
    assert request.url.startswith("https://api.example.com/v2/customers/c1/orders")


async def test_a_missing_path_parameter_is_refused() -> None:
    with pytest.raises(InvalidFunctionArguments, match="'customerId' is required"):
        await call({})


async def test_a_missing_required_query_parameter_is_refused() -> None:
    function = RestFunction(
        name="search",
        source="search.yaml",
        method="GET",
        url="https://api.example.com/search",
        parameters=dict([param("q", "query", required=True)]),
    )
    with pytest.raises(InvalidFunctionArguments, match="'q' is required"):
        await call({}, function)
    with pytest.raises(InvalidFunctionArguments, match="'q' is required"):
        await call({"q": None}, function)


@pytest.mark.parametrize(
    "name",
    ["nope", "CUSTOMERID", "customerId ", "$TOP", "x" * 500, "__proto__", "accessToken2"],
)
async def test_unknown_parameters_are_refused(name: str) -> None:
    with pytest.raises(InvalidFunctionArguments, match="has no parameter") as raised:
        await call({"customerId": "c1", name: CANARY})
    assert CANARY not in raised.value.message
    assert len(raised.value.message) < 200


@pytest.mark.parametrize("name", ["accessToken", "apiKey"])
@pytest.mark.parametrize("value", [CANARY, "", None, {"value": CANARY}])
async def test_a_caller_can_never_supply_a_credential_parameter(name: str, value: Any) -> None:
    h = harness(response(200, []))
    with pytest.raises(CredentialParameterRefused) as raised:
        await h.engine.call(
            orders(),
            {"customerId": "c1", name: value},
            context=CONTEXT,
            credentials=credentials(),
        )
    assert raised.value.status == 400
    assert CANARY not in raised.value.message
    assert h.upstream.requests == []


async def test_a_continuation_credential_cannot_be_supplied_either() -> None:
    function = orders(
        continuation=Continuation(
            when="=$.next",
            url="=$.next",
            parameters=dict([param("nextToken", "header", credential="crm.oauth")]),
        )
    )
    with pytest.raises(CredentialParameterRefused):
        await call({"customerId": "c1", "nextToken": CANARY}, function)


async def test_defaults_apply_and_callers_override_them() -> None:
    assert (await call({"customerId": "c1"})).url.endswith("/orders?$top=50")
    assert (await call({"customerId": "c1", "$top": 5})).url.endswith("/orders?$top=5")


async def test_a_default_may_be_an_expression_over_the_context() -> None:
    function = RestFunction(
        name="mine",
        source="mine.yaml",
        method="GET",
        url="https://api.example.com/orders",
        parameters=dict(
            [
                param("owner", "query", value="=@ctx.user.email"),
                param("org", "query", value="=@ctx.solution.organizationId"),
                param("size", "query", "int", value="=$.pageSize ? $.pageSize * 2 : 10"),
                param("pageSize", "header", "int"),
            ]
        ),
    )
    request = await call({"pageSize": 4}, function)
    assert request.url == "https://api.example.com/orders?owner=bea@example.net&org=org_1&size=8"
