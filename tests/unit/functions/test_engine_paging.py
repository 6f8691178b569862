"""Paging with continuation (Microsoft Graph style) and the call's bounds."""

from __future__ import annotations

from typing import Any

import pytest

from authgate.functions.call import CallLimits
from authgate.functions.errors import (
    BasicAuthenticationRefused,
    CallBoundExceeded,
    CredentialHostRefused,
    UpstreamError,
)
from authgate.functions.model import Continuation, RestFunction
from tests.unit.functions.engine_fakes import (
    CONTEXT,
    MemoryCredentials,
    credential,
    harness,
    param,
    response,
)

GRAPH = "https://graph.microsoft.com/v1.0"
TOKEN = "canary-graph-token-91c2"

LIST_MESSAGES = RestFunction(
    name="list-messages",
    source="functions/list-messages.yaml",
    method="GET",
    url=f"{GRAPH}/me/mailFolders/{{folderId}}/messages?$orderby=receivedDateTime",
    parameters=dict(
        [
            param("folderId", "path", required=True),
            param("$top", "query", "number", value=2),
            param("$select", "query", value="id,subject,from,receivedDateTime"),
            param("accessToken", "header", required=True, credential="graph.oauth"),
        ]
    ),
    output_transform="=$",
    records=(
        '=$.value.{"id": id, "subject": subject, '
        '"from": from.emailAddress.address, "received": receivedDateTime}'
    ),
    continuation=Continuation(
        when='=$."@odata.nextLink"',
        url='=$."@odata.nextLink"',
        parameters=dict([param("accessToken", "header", required=True, credential="graph.oauth")]),
    ),
)


def message(n: int) -> dict[str, Any]:
    return {
        "id": f"AAMk{n}",
        "subject": f"Subject {n}",
        "from": {"emailAddress": {"name": f"Sender {n}", "address": f"s{n}@example.com"}},
        "receivedDateTime": f"2026-11-0{n}T08:00:00Z",
        "isRead": False,
    }


def graph_page(numbers: list[int], next_link: str | None) -> dict[str, Any]:
    page: dict[str, Any] = {
        "@odata.context": f"{GRAPH}/$metadata#users('bea')/mailFolders('inbox')/messages",
        "value": [message(n) for n in numbers],
    }
    if next_link is not None:
        page["@odata.nextLink"] = next_link
    return page


def graph_credentials() -> MemoryCredentials:
    return MemoryCredentials(credential("graph.oauth", TOKEN, hosts=("graph.microsoft.com",)))


NEXT_2 = f"{GRAPH}/me/mailFolders/inbox/messages?%24top=2&%24skip=2&%24select=id"
NEXT_4 = f"{GRAPH}/me/mailFolders/inbox/messages?%24top=2&%24skip=4&%24select=id"


async def test_graph_paging_follows_next_links_and_appends_records() -> None:
    h = harness(
        response(200, graph_page([1, 2], NEXT_2)),
        response(200, graph_page([3, 4], NEXT_4)),
        response(200, graph_page([5], None)),
    )
    credentials = graph_credentials()
    result = await h.engine.call(
        LIST_MESSAGES, {"folderId": "inbox"}, context=CONTEXT, credentials=credentials
    )

    assert result.pages == 3
    assert [r["id"] for r in result.records] == ["AAMk1", "AAMk2", "AAMk3", "AAMk4", "AAMk5"]
    assert result.records[0] == {
        "id": "AAMk1",
        "subject": "Subject 1",
        "from": "s1@example.com",
        "received": "2026-11-01T08:00:00Z",
    }
    assert result.output == graph_page([5], None)  # the last page's output
    urls = [r.url for r in h.upstream.requests]
    # First page: the query written in url is replaced by the query parameters.
    assert urls[0] == (
        f"{GRAPH}/me/mailFolders/inbox/messages?$top=2&$select=id,subject,from,receivedDateTime"
    )
    assert urls[1:] == [NEXT_2, NEXT_4]  # next links are kept exactly as given
    for index in range(3):
        assert h.upstream.header(index, "authorization") == f"Bearer {TOKEN}"
        assert h.upstream.requests[index].allowed_hosts == frozenset({"graph.microsoft.com"})
        assert "authorization" in h.upstream.requests[index].sensitive_headers
    assert credentials.resolved == ["graph.oauth"]  # resolved once for the whole call


async def test_a_relative_next_link_resolves_against_the_previous_url() -> None:
    h = harness(
        response(200, graph_page([1], "messages?page=2"), url=f"{GRAPH}/me/messages"),
        response(200, graph_page([2], None)),
    )
    result = await h.engine.call(
        LIST_MESSAGES, {"folderId": "inbox"}, context=CONTEXT, credentials=graph_credentials()
    )
    assert result.pages == 2
    assert h.upstream.requests[1].url == f"{GRAPH}/me/messages?page=2"


@pytest.mark.parametrize(
    "next_link",
    [
        "https://attacker.example.net/collect",
        "https://graph.microsoft.com.attacker.example.net/v1.0/me/messages",
        "//attacker.example.net/v1.0/me/messages",
        "http://169.254.169.254/latest/meta-data/",
        "https://user@attacker.example.net/",
    ],
)
async def test_a_next_link_to_another_host_never_gets_the_token(next_link: str) -> None:
    h = harness(response(200, graph_page([1], next_link)))
    with pytest.raises((CredentialHostRefused, BasicAuthenticationRefused)) as raised:
        await h.engine.call(
            LIST_MESSAGES, {"folderId": "inbox"}, context=CONTEXT, credentials=graph_credentials()
        )
    assert raised.value.status == 403
    assert len(h.upstream.requests) == 1  # nothing was sent to the other host
    assert TOKEN not in str(raised.value) + str(raised.value.description)


async def test_a_continuation_without_parameters_keeps_headers_but_not_the_query() -> None:
    function = RestFunction(
        name="paged",
        source="paged.yaml",
        method="GET",
        url="https://api.example.com/items",
        parameters=dict(
            [
                param("limit", "query", "int", value=10),
                param("X-Tenant", "header", value="acme"),
            ]
        ),
        records="=$.items",
        continuation=Continuation(when="=$.next", url="=$.next"),
    )
    h = harness(
        response(200, {"items": [1, 2], "next": "https://api.example.com/items?cursor=c2"}),
        response(200, {"items": [3]}),
    )
    result = await h.engine.call(function, {}, context=CONTEXT, credentials=MemoryCredentials())
    assert result.records == [1, 2, 3]
    assert h.upstream.requests[0].url == "https://api.example.com/items?limit=10"
    assert h.upstream.requests[1].url == "https://api.example.com/items?cursor=c2"
    assert h.upstream.header(1, "x-tenant") == "acme"


async def test_continuation_parameters_can_use_the_page_and_ctx() -> None:
    function = RestFunction(
        name="offset-paged",
        source="offset.yaml",
        method="GET",
        url="https://api.example.com/items?kind=a",
        parameters=dict([param("page", "query", "int", value=1)]),
        records="=$.items",
        continuation=Continuation(
            when="=$.more",
            url="https://api.example.com/items?kind=a",
            parameters=dict(
                [
                    param("page", "query", "int", value="=$.page + 1"),
                    param("X-Status", "header", value="=$string(@ctx.response.status)"),
                ]
            ),
        ),
    )
    h = harness(
        response(200, {"items": ["a"], "more": True, "page": 1}),
        response(200, {"items": ["b"], "more": False, "page": 2}),
    )
    result = await h.engine.call(function, {}, context=CONTEXT, credentials=MemoryCredentials())
    assert result.records == ["a", "b"]
    assert h.upstream.requests[1].url == "https://api.example.com/items?kind=a&page=2"
    assert h.upstream.header(1, "x-status") == "200"


# --- bounds --------------------------------------------------------------------------------


def endless(request: Any) -> Any:
    return response(200, {"items": [1], "next": "https://api.example.com/items?again"})


ENDLESS = RestFunction(
    name="endless",
    source="endless.yaml",
    method="GET",
    url="https://api.example.com/items",
    records="=$.items",
    continuation=Continuation(when="=$.next", url="=$.next"),
)


async def test_the_page_bound_ends_the_call_and_says_so() -> None:
    h = harness(*[endless] * 10, limits=CallLimits(max_pages=4))
    with pytest.raises(CallBoundExceeded) as raised:
        await h.engine.call(ENDLESS, {}, context=CONTEXT, credentials=MemoryCredentials())
    assert raised.value.bound == "pages"
    assert "4 pages" in raised.value.title
    assert len(h.upstream.requests) == 4


async def test_the_byte_bound_counts_every_page() -> None:
    body = {"items": ["x" * 400], "next": "https://api.example.com/items?again"}
    size = len(response(200, body).body)
    h = harness(*[response(200, body)] * 10, limits=CallLimits(max_bytes=1000))
    with pytest.raises(CallBoundExceeded) as raised:
        await h.engine.call(ENDLESS, {}, context=CONTEXT, credentials=MemoryCredentials())
    assert raised.value.bound == "bytes"
    assert "1000 response bytes" in raised.value.title
    assert len(h.upstream.requests) == 3
    # Each request may only use what is left of the call's byte budget.
    assert [limit.max_bytes for limit in h.upstream.limits] == [1000, 1000 - size, 1000 - 2 * size]


async def test_the_time_bound_counts_every_page() -> None:
    h = harness(*[endless] * 10, limits=CallLimits(seconds=30.0), request_cost=8.0)
    with pytest.raises(CallBoundExceeded) as raised:
        await h.engine.call(ENDLESS, {}, context=CONTEXT, credentials=MemoryCredentials())
    assert raised.value.bound == "time"
    assert raised.value.status == 504
    assert len(h.upstream.requests) == 4
    assert [limit.timeout for limit in h.upstream.limits] == [30.0, 22.0, 14.0, 6.0]


class TooLarge(UpstreamError):
    code = "upstream_response_too_large"


class TimedOut(UpstreamError):
    code = "upstream_timeout"
    status = 504


async def test_an_upstream_cut_short_by_the_call_budget_reports_the_call_bound() -> None:
    body = {"items": ["x" * 400], "next": "https://api.example.com/items?again"}
    h = harness(response(200, body), TooLarge("too large"), limits=CallLimits(max_bytes=1000))
    with pytest.raises(CallBoundExceeded) as raised:
        await h.engine.call(ENDLESS, {}, context=CONTEXT, credentials=MemoryCredentials())
    assert raised.value.bound == "bytes"


async def test_a_request_over_its_own_bound_is_the_upstream_error() -> None:
    h = harness(TimedOut("the upstream did not answer in time"))
    with pytest.raises(TimedOut):
        await h.engine.call(ENDLESS, {}, context=CONTEXT, credentials=MemoryCredentials())
