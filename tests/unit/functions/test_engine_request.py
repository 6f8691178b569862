"""Building the request: path encoding attacks, query replacement, headers and bodies."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authgate.functions.errors import (
    FunctionCallFailed,
    InvalidFunctionArguments,
    InvalidFunctionRequest,
)
from authgate.functions.model import Parameter, RestFunction
from tests.unit.functions.engine_fakes import CONTEXT, MemoryCredentials, harness, param, response

BASE = "https://api.example.com/v2/customers/{customerId}/orders"


def function(
    url: str = BASE,
    *params: tuple[str, Parameter],
    method: str = "GET",
    input_transform: str | None = None,
) -> RestFunction:
    declared = dict(params) or dict([param("customerId", "path", required=True)])
    return RestFunction(
        name="f",
        source="f.yaml",
        method=method,
        url=url,
        parameters=declared,
        input_transform=input_transform,
    )


async def sent(fn: RestFunction, arguments: dict[str, Any]) -> Any:
    h = harness(response(200, {}))
    await h.engine.call(fn, arguments, context=CONTEXT, credentials=MemoryCredentials())
    return h.upstream.requests[0]


# --- path parameters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "../admin",
        "../../etc/passwd",
        "a/b",
        "a/../../b",
        "%2e%2e%2fadmin",
        "..%2fadmin",
        "a?admin=true",
        "a#frag",
        "a b",
        "a\\..\\b",
        "a;jsessionid=1",
        "ä/ö",
        "a\r\nHost: evil",
        "\x00",
        "//evil.example.net",
        "@evil.example.net",
    ],
)
async def test_a_path_value_stays_one_segment(value: str) -> None:
    request = await sent(function(), {"customerId": value})
    path = urlsplit(request.url).path
    prefix, rest = "/v2/customers/", "/orders"
    assert path.startswith(prefix)
    assert path.endswith(rest)
    segment = path[len(prefix) : -len(rest)]
    assert "/" not in segment
    assert "?" not in segment
    assert "#" not in segment
    assert unquote(segment) == value
    assert urlsplit(request.url).hostname == "api.example.com"
    assert urlsplit(request.url).query == ""


@pytest.mark.parametrize("value", ["", ".", ".."])
async def test_dot_segments_and_empty_path_values_are_refused(value: str) -> None:
    with pytest.raises(InvalidFunctionArguments, match="'customerId' must not be empty"):
        await sent(function(), {"customerId": value})


async def test_path_values_of_other_json_types_are_written_as_text() -> None:
    fn = function(
        "https://api.example.com/items/{id}/{flag}",
        param("id", "path", "number", required=True),
        param("flag", "path", "boolean", required=True),
    )
    request = await sent(fn, {"id": 12.0, "flag": True})
    assert request.url == "https://api.example.com/items/12/true"


async def test_a_placeholder_in_the_host_is_refused() -> None:
    fn = function("https://{tenant}.example.com/items", param("tenant", "path", required=True))
    with pytest.raises(InvalidFunctionRequest) as raised:
        await sent(fn, {"tenant": "evil.example.net/x"})
    assert "only appear in the URL's path" in str(raised.value.description)


async def test_a_placeholder_without_a_path_parameter_is_refused() -> None:
    fn = function("https://api.example.com/items/{id}", param("q", "query"))
    with pytest.raises(InvalidFunctionRequest) as raised:
        await sent(fn, {})
    assert "{id}" in str(raised.value.description)


# --- query ---------------------------------------------------------------------------------


async def test_query_parameters_replace_the_query_written_in_the_url() -> None:
    fn = function(
        "https://api.example.com/search?q=written&debug=1#top",
        param("q", "query"),
        param("tag", "query", "array"),
        param("n", "query", "number"),
    )
    request = await sent(fn, {"q": "a&b=c #d", "tag": ["x", "y z", "ü"], "n": 2.5})
    assert request.url == (
        "https://api.example.com/search?q=a%26b%3Dc%20%23d&tag=x&tag=y%20z&tag=%C3%BC&n=2.5"
    )


async def test_without_query_parameters_the_written_query_stays() -> None:
    fn = function("https://api.example.com/search?api-version=2", param("X-A", "header"))
    assert (await sent(fn, {})).url == "https://api.example.com/search?api-version=2"


async def test_declared_query_parameters_without_values_still_replace_the_query() -> None:
    fn = function("https://api.example.com/search?q=written", param("q", "query"))
    assert (await sent(fn, {})).url == "https://api.example.com/search"


async def test_an_object_cannot_go_into_the_query() -> None:
    fn = function("https://api.example.com/s", param("q", "query", "object"))
    with pytest.raises(InvalidFunctionArguments, match="'q' must be a string, number or boolean"):
        await sent(fn, {"q": {"a": 1}})


# --- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\x00b", "\r\n\r\nGET / HTTP/1.1"],
)
async def test_header_values_with_cr_lf_or_nul_are_refused(value: str) -> None:
    fn = function("https://api.example.com/s", param("X-Trace", "header"))
    h = harness(response(200, {}))
    with pytest.raises(InvalidFunctionArguments, match="'X-Trace' must not contain CR, LF"):
        await h.engine.call(
            fn, {"X-Trace": value}, context=CONTEXT, credentials=MemoryCredentials()
        )
    assert h.upstream.requests == []


@pytest.mark.parametrize(
    "name",
    ["Host", "host", "Content-Length", "Transfer-Encoding", "Connection", "X Bad", "X:Y", ""],
)
async def test_headers_that_frame_or_route_the_request_cannot_be_declared(name: str) -> None:
    fn = function("https://api.example.com/s", param(name, "header"))
    with pytest.raises(InvalidFunctionRequest):
        await sent(fn, {name: "evil.example.net"})


async def test_header_values_are_sent_as_text() -> None:
    fn = function(
        "https://api.example.com/s",
        param("X-Count", "header", "int"),
        param("X-Flag", "header", "boolean"),
        param("X-Name", "header"),
    )
    request = await sent(fn, {"X-Count": 3, "X-Flag": False, "X-Name": "Bea"})
    assert ("x-count", "3") in request.headers
    assert ("x-flag", "false") in request.headers
    assert ("x-name", "Bea") in request.headers
    assert request.sensitive_headers == frozenset()


async def test_a_caller_access_token_becomes_a_bearer_authorization() -> None:
    fn = function("https://api.example.com/s", param("AccessToken", "header"))
    request = await sent(fn, {"AccessToken": "caller-token"})
    assert ("authorization", "Bearer caller-token") in request.headers
    assert "authorization" in request.sensitive_headers
    assert request.allowed_hosts is None  # no stored credential rides on it


# --- body ----------------------------------------------------------------------------------


async def test_body_parameters_form_the_json_object() -> None:
    fn = function(
        "https://api.example.com/orders",
        param("name", "body", required=True),
        param("qty", "body", "int", value=1),
        param("note", "body"),
        method="post",
    )
    request = await sent(fn, {"name": "Widget ✓"})
    assert request.method == "POST"
    assert json.loads(request.body) == {"name": "Widget ✓", "qty": 1}
    assert ("content-type", "application/json") in request.headers


async def test_input_transform_builds_the_body_from_bare_names() -> None:
    fn = function(
        "https://api.example.com/orders",
        param("name", "body", required=True),
        param("qty", "body", "int", value=2),
        param("X-Request", "header", value="r1"),
        method="PUT",
        input_transform=(
            '={"order": {"title": name, "quantity": qty, "by": @ctx.user.id,'
            ' "lines": [1..qty].{"n": $}}}'
        ),
    )
    request = await sent(fn, {"name": "Widget"})
    assert json.loads(request.body) == {
        "order": {"title": "Widget", "quantity": 2, "by": "usr_1", "lines": [{"n": 1}, {"n": 2}]}
    }


async def test_a_request_without_body_parameters_has_no_body() -> None:
    request = await sent(function(), {"customerId": "c1"})
    assert request.body is None
    assert all(name != "content-type" for name, _ in request.headers)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://api.example.com/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "/relative/only",
        "https:///nohost",
        "https://api.example.com:99999/x",
    ],
)
async def test_only_absolute_http_urls_are_requested(url: str) -> None:
    fn = function(url, param("q", "query"))
    with pytest.raises(FunctionCallFailed, match="URL"):
        await sent(fn, {})


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1).filter(lambda v: v not in (".", "..")))
async def test_any_path_value_round_trips_as_exactly_one_segment(value: str) -> None:
    fn = function("https://api.example.com/a/{id}/b", param("id", "path", required=True))
    request = await sent(fn, {"id": value})
    parts = urlsplit(request.url)
    assert parts.hostname == "api.example.com"
    assert (parts.query, parts.fragment) == ("", "")
    first, segment, last = parts.path.split("/")[1:]
    assert (first, last) == ("a", "b")
    assert unquote(segment, errors="surrogatepass") == value


@pytest.mark.parametrize(
    ("declared", "value"),
    [
        (param("id", "path", required=True), "a\ud800b"),
        (param("q", "query"), "\udfff"),
        (param("name", "body"), "x\ud83d"),
        (param("X-Name", "header"), "\udc80"),
    ],
)
async def test_lone_surrogates_are_refused_cleanly(declared: Any, value: str) -> None:
    fn = function("https://api.example.com/items/{id}", param("id", "path", value="1"), declared)
    with pytest.raises(InvalidFunctionArguments, match="not valid Unicode"):
        await sent(fn, {declared[0]: value})
