"""Credentials: how each kind is sent, host binding, basic refused, nothing leaks."""

from __future__ import annotations

from typing import Any

import pytest

from authgate.functions.errors import (
    BasicAuthenticationRefused,
    CredentialHostRefused,
    InvalidFunctionRequest,
)
from authgate.functions.model import Parameter, RestFunction
from authgate.functions.ports import CredentialKind
from tests.unit.functions.engine_fakes import (
    CONTEXT,
    MemoryCredentials,
    credential,
    harness,
    param,
    response,
)

SECRET = "canary-secret-5d2e"
TOKEN = "canary-token-a41c"


def function(url: str, *params: tuple[str, Parameter], **extra: Any) -> RestFunction:
    return RestFunction(
        name="f", source="f.yaml", method="GET", url=url, parameters=dict(params), **extra
    )


async def sent(fn: RestFunction, credentials: MemoryCredentials, **arguments: Any) -> Any:
    h = harness(response(200, {"ok": True}))
    await h.engine.call(fn, arguments, context=CONTEXT, credentials=credentials)
    return h.upstream.requests[0]


@pytest.mark.parametrize("kind", [CredentialKind.OAUTH, CredentialKind.BEARER])
@pytest.mark.parametrize("name", ["accessToken", "accesstoken", "ACCESSTOKEN", "AccessToken"])
async def test_an_access_token_header_becomes_a_bearer_authorization(
    kind: CredentialKind, name: str
) -> None:
    fn = function("https://api.example.com/me", param(name, "header", credential="crm"))
    request = await sent(fn, MemoryCredentials(credential("crm", TOKEN, kind)))
    assert request.headers == (("authorization", f"Bearer {TOKEN}"),)
    assert request.sensitive_headers == frozenset({"authorization"})
    assert request.allowed_hosts == frozenset({"api.example.com"})
    assert TOKEN not in repr(request)


@pytest.mark.parametrize("kind", [CredentialKind.SECRET, CredentialKind.API_KEY])
async def test_secrets_and_api_keys_go_as_their_value_where_declared(kind: CredentialKind) -> None:
    fn = function(
        "https://api.example.com/v1/{key}/items",
        param("X-Api-Key", "header", credential="k"),
        param("api_key", "query", credential="k"),
        param("key", "path", credential="k"),
        param("auth", "body", credential="k"),
        param("name", "body", value="n"),
    )
    request = await sent(fn, MemoryCredentials(credential("k", SECRET, kind)))
    assert ("x-api-key", SECRET) in request.headers
    assert request.url == f"https://api.example.com/v1/{SECRET}/items?api_key={SECRET}"
    assert request.body == f'{{"auth":"{SECRET}","name":"n"}}'.encode()
    assert request.sensitive_headers == frozenset({"x-api-key"})


async def test_a_secret_in_an_access_token_header_is_sent_as_its_value() -> None:
    fn = function("https://api.example.com/me", param("accessToken", "header", credential="k"))
    request = await sent(fn, MemoryCredentials(credential("k", SECRET, CredentialKind.SECRET)))
    assert request.headers == (("accesstoken", SECRET),)


@pytest.mark.parametrize("location", ["header", "query", "path", "body"])
async def test_basic_credentials_are_refused_through_the_cloud(location: str) -> None:
    url = "https://api.example.com/{auth}" if location == "path" else "https://api.example.com/x"
    fn = function(url, param("auth", location, credential="legacy"))
    h = harness(response(200, {}))
    basic = credential("legacy", f"bea:{SECRET}", CredentialKind.BASIC)
    with pytest.raises(BasicAuthenticationRefused) as raised:
        await h.engine.call(fn, {}, context=CONTEXT, credentials=MemoryCredentials(basic))
    assert "Basic authentication is not allowed through the cloud proxy" in raised.value.title
    assert raised.value.status == 403
    assert SECRET not in f"{raised.value} {raised.value.description}"
    assert h.upstream.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.net/collect",
        "https://api.example.com.evil.example.net/",
        "https://evil.example.net/api.example.com",
        "https://evil.example.net/?host=api.example.com",
        "https://127.0.0.1/",
        "https://[::1]/",
        "https://api.example.co/",
        "https://xapi.example.com/",
    ],
)
async def test_a_credential_never_goes_to_a_host_it_is_not_bound_to(url: str) -> None:
    fn = function(url, param("accessToken", "header", credential="crm"))
    h = harness(response(200, {}))
    with pytest.raises(CredentialHostRefused) as raised:
        await h.engine.call(
            fn, {}, context=CONTEXT, credentials=MemoryCredentials(credential("crm", TOKEN))
        )
    assert raised.value.status == 403
    assert TOKEN not in f"{raised.value} {raised.value.description}"
    assert h.upstream.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "https://API.Example.COM/x",
        "https://api.example.com./x",
        "https://api.example.com:8443/x",
        "http://api.example.com/x",
    ],
)
async def test_host_matching_ignores_case_port_and_trailing_dot(url: str) -> None:
    fn = function(url, param("accessToken", "header", credential="crm"))
    request = await sent(fn, MemoryCredentials(credential("crm", TOKEN)))
    assert request.allowed_hosts == frozenset({"api.example.com"})


async def test_allowed_hosts_are_the_intersection_of_all_credentials_used() -> None:
    fn = function(
        "https://b.example.com/x",
        param("accessToken", "header", credential="one"),
        param("X-Key", "header", credential="two"),
    )
    credentials = MemoryCredentials(
        credential("one", TOKEN, hosts=("a.example.com", "b.example.com")),
        credential("two", SECRET, CredentialKind.API_KEY, hosts=("b.example.com", "c.example.com")),
    )
    request = await sent(fn, credentials)
    assert request.allowed_hosts == frozenset({"b.example.com"})
    assert request.sensitive_headers == frozenset({"authorization", "x-key"})


async def test_credentials_without_a_common_host_are_refused() -> None:
    fn = function(
        "https://a.example.com/x",
        param("accessToken", "header", credential="one"),
        param("X-Key", "header", credential="two"),
    )
    credentials = MemoryCredentials(
        credential("one", TOKEN, hosts=("a.example.com",)),
        credential("two", SECRET, CredentialKind.API_KEY, hosts=("c.example.com",)),
    )
    with pytest.raises(CredentialHostRefused, match="no host"):
        await sent(fn, credentials)


async def test_a_credential_bound_to_no_host_is_never_sent() -> None:
    fn = function("https://api.example.com/x", param("accessToken", "header", credential="c"))
    with pytest.raises(CredentialHostRefused):
        await sent(fn, MemoryCredentials(credential("c", TOKEN, hosts=())))


async def test_a_url_with_user_information_is_refused() -> None:
    fn = function("https://bea:pw@api.example.com/x", param("q", "query"))
    with pytest.raises(BasicAuthenticationRefused):
        await sent(fn, MemoryCredentials())


async def test_credential_header_values_with_line_breaks_are_refused_without_the_value() -> None:
    fn = function("https://api.example.com/x", param("X-Key", "header", credential="k"))
    broken = credential("k", f"{SECRET}\r\nX-Evil: 1", CredentialKind.API_KEY)
    with pytest.raises(InvalidFunctionRequest) as raised:
        await sent(fn, MemoryCredentials(broken))
    assert "credential 'k' holds a line break" in str(raised.value.description)
    assert SECRET not in f"{raised.value} {raised.value.description}"


async def test_credential_and_secret_locations_put_nothing_on_the_wire() -> None:
    fn = function(
        "https://api.example.com/x",
        param("hidden", "secret", credential="k"),
        param("held", "credential", credential="k"),
    )
    credentials = MemoryCredentials(credential("k", SECRET, CredentialKind.SECRET))
    request = await sent(fn, credentials)
    assert SECRET not in repr(request.headers) + request.url + repr(request.body)
    assert credentials.resolved == []


async def test_use_local_call_functions_run_on_the_engine_too() -> None:
    fn = function(
        "https://api.example.com/x",
        param("accessToken", "header", credential="crm"),
        use_local_call=True,
    )
    request = await sent(fn, MemoryCredentials(credential("crm", TOKEN)))
    assert ("authorization", f"Bearer {TOKEN}") in request.headers


async def test_credential_values_are_not_visible_to_expressions_as_parameters() -> None:
    fn = function(
        "https://api.example.com/x",
        param("accessToken", "header", credential="crm"),
        output_transform="=@ctx.parameters",
    )
    h = harness(response(200, {}))
    result = await h.engine.call(
        fn, {}, context=CONTEXT, credentials=MemoryCredentials(credential("crm", TOKEN))
    )
    assert result.output == {}


async def test_a_call_logs_nothing_of_credentials_or_payloads(
    caplog: pytest.LogCaptureFixture,
) -> None:
    payload = "canary-payload-1b7d"
    fn = function(
        "https://api.example.com/x",
        param("accessToken", "header", credential="crm"),
        param("note", "body", value=payload),
        records="=$.rows",
    )
    h = harness(response(401, payload), response(200, {"rows": [{"p": payload}]}))
    credentials = MemoryCredentials(credential("crm", TOKEN), refreshes={"crm": [SECRET]})
    with caplog.at_level("DEBUG"):
        result = await h.engine.call(fn, {}, context=CONTEXT, credentials=credentials)
    assert result.records == [{"p": payload}]
    for canary in (TOKEN, SECRET, payload):
        assert canary not in caplog.text
