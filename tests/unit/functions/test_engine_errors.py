"""Error handling: handlers with @ctx, retries, 429 Retry-After, 401 refresh, defaults."""

from __future__ import annotations

from typing import Any

import pytest

from authgate.functions.call import CallLimits
from authgate.functions.errors import CallBoundExceeded, FunctionCallFailed, UpstreamError
from authgate.functions.model import ErrorHandler, RestFunction, Retry
from authgate.functions.ports import CredentialKind
from tests.unit.functions.engine_fakes import (
    CONTEXT,
    MemoryCredentials,
    credential,
    harness,
    param,
    response,
)

TOKEN = "canary-token-77aa"
FRESH = "canary-fresh-token-88bb"
PAYLOAD = "canary-upstream-payload-99cc"


def function(*handlers: ErrorHandler, disable_token_refresh: bool = False) -> RestFunction:
    return RestFunction(
        name="get-order",
        source="functions/get-order.yaml",
        method="GET",
        url="https://api.example.com/v2/customers/{customerId}/orders",
        parameters=dict(
            [
                param("customerId", "path", required=True),
                param("accessToken", "header", required=True, credential="crm.oauth"),
            ]
        ),
        error_handlers=handlers,
        disable_token_refresh=disable_token_refresh,
    )


def credentials(kind: CredentialKind = CredentialKind.OAUTH) -> MemoryCredentials:
    return MemoryCredentials(
        credential("crm.oauth", TOKEN, kind), refreshes={"crm.oauth": [FRESH, "unused"]}
    )


async def run(
    fn: RestFunction,
    *script: Any,
    creds: MemoryCredentials | None = None,
    limits: CallLimits | None = None,
) -> tuple[Any, Any]:
    h = harness(*script, limits=limits)
    try:
        result = await h.engine.call(
            fn, {"customerId": "c-17"}, context=CONTEXT, credentials=creds or credentials()
        )
    except FunctionCallFailed as failed:
        return failed, h
    return result, h


def visible(error: FunctionCallFailed) -> str:
    return f"{error} {error.title} {error.description} {error.call_details}"


# --- handlers ------------------------------------------------------------------------------

NOT_FOUND = ErrorHandler(
    when="=@ctx.response.status = 404",
    title="Not found",
    description='="No orders for customer " & @ctx.parameters.customerId',
    details='={"status": @ctx.response.status, "code": @ctx.response.body.error.code}',
)
UNAVAILABLE = ErrorHandler(when="=@ctx.response.status = 503", retry=Retry(2000, 2))


async def test_the_first_matching_handler_decides_with_ctx_expressions() -> None:
    body = {"error": {"code": "ORDER_NONE", "message": PAYLOAD}}
    failed, _ = await run(function(UNAVAILABLE, NOT_FOUND), response(404, body))
    assert isinstance(failed, FunctionCallFailed)
    assert failed.status == 404
    assert failed.title == "Not found"
    assert failed.description == "No orders for customer c-17"
    assert failed.call_details == {"status": 404, "code": "ORDER_NONE"}


async def test_handlers_see_response_headers_and_the_user() -> None:
    handler = ErrorHandler(
        when='=@ctx.response.headers."x-reason" = "locked"',
        title='="Locked for " & @ctx.user.email',
    )
    failed, _ = await run(function(handler), response(423, {}, headers={"X-Reason": "locked"}))
    assert (failed.status, failed.title) == (423, "Locked for bea@example.net")


async def test_a_retry_handler_repeats_with_its_delay_then_gives_up() -> None:
    failed, h = await run(
        function(UNAVAILABLE, NOT_FOUND),
        response(503, PAYLOAD),
        response(503, PAYLOAD),
        response(503, PAYLOAD),
    )
    assert h.sleep.delays == [2.0, 2.0]
    assert len(h.upstream.requests) == 3
    assert failed.status == 503
    assert failed.title == "The upstream answered 503 Service Unavailable"
    assert PAYLOAD not in visible(failed)


async def test_a_retry_handler_ends_when_the_upstream_recovers() -> None:
    result, h = await run(function(UNAVAILABLE), response(503, ""), response(200, [{"id": "o1"}]))
    assert result.records == [{"id": "o1"}]
    assert h.sleep.delays == [2.0]


async def test_a_retry_handler_with_a_title_uses_it_once_retries_are_spent() -> None:
    handler = ErrorHandler(
        when="=@ctx.response.status >= 500", retry=Retry(100, 1), title="Try again later"
    )
    failed, h = await run(function(handler), response(502, ""), response(500, ""))
    assert h.sleep.delays == [0.1]
    assert (failed.status, failed.title) == (500, "Try again later")


async def test_a_handler_without_when_matches_everything() -> None:
    failed, _ = await run(function(ErrorHandler(title="Failed")), response(418, ""))
    assert (failed.status, failed.title) == (418, "Failed")


async def test_without_a_matching_handler_the_caller_gets_status_and_no_payload() -> None:
    body = {"error": PAYLOAD, "token": TOKEN}
    failed, _ = await run(function(NOT_FOUND), response(400, body))
    assert failed.status == 400
    assert failed.title == "The upstream answered 400 Bad Request"
    assert PAYLOAD not in visible(failed)
    assert TOKEN not in visible(failed)


async def test_an_error_page_in_another_format_still_reaches_handlers() -> None:
    handler = ErrorHandler(
        when='=$contains(@ctx.response.body, "maintenance")', title="Down for maintenance"
    )
    failed, _ = await run(function(handler), response(502, "<html>maintenance</html>"))
    assert failed.title == "Down for maintenance"


# --- upstream exceptions -------------------------------------------------------------------


class Unreachable(UpstreamError):
    code = "upstream_unreachable"


async def test_upstream_errors_are_offered_to_handlers() -> None:
    handler = ErrorHandler(
        when='=@ctx.error.name = "Unreachable"',
        title='="Cannot reach the CRM: " & @ctx.error.message',
    )
    failed, _ = await run(function(handler), Unreachable("api.example.com: connection refused"))
    assert failed.status == 502
    assert failed.title == "Cannot reach the CRM: api.example.com: connection refused"


async def test_upstream_errors_can_be_retried_by_a_handler() -> None:
    handler = ErrorHandler(when="=@ctx.error", retry=Retry(500, 2))
    result, h = await run(
        function(handler), Unreachable("refused"), Unreachable("refused"), response(200, [1])
    )
    assert result.records == [1]
    assert h.sleep.delays == [0.5, 0.5]


async def test_an_unhandled_upstream_error_propagates_as_itself() -> None:
    h = harness(Unreachable("refused"))
    with pytest.raises(Unreachable):
        await h.engine.call(
            function(NOT_FOUND), {"customerId": "c"}, context=CONTEXT, credentials=credentials()
        )


# --- 429 -----------------------------------------------------------------------------------


async def test_429_is_retried_honouring_retry_after_seconds() -> None:
    result, h = await run(
        function(),
        response(429, "", headers={"Retry-After": "3"}),
        response(429, "", headers={"Retry-After": "0"}),
        response(200, {"id": "o"}),
    )
    assert result.records == [{"id": "o"}]
    assert h.sleep.delays == [3.0, 0.0]


async def test_429_retry_after_as_an_http_date_is_measured_against_the_date_header() -> None:
    headers = {
        "Retry-After": "Wed, 21 Oct 2026 07:28:05 GMT",
        "Date": "Wed, 21 Oct 2026 07:28:00 GMT",
    }
    _, h = await run(function(), response(429, "", headers=headers), response(200, {}))
    assert h.sleep.delays == [5.0]


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        ("86400", 10.0),  # capped
        ("soon", 1.0),  # unusable: backoff
        ("-5", 1.0),
        ("Wed, 21 Oct 2026 07:28:05 GMT", 1.0),  # a date without a Date header
    ],
)
async def test_429_retry_after_is_capped_or_replaced_by_backoff(
    retry_after: str, expected: float
) -> None:
    _, h = await run(
        function(), response(429, "", headers={"Retry-After": retry_after}), response(200, {})
    )
    assert h.sleep.delays == [expected]


async def test_429_gives_up_after_three_retries() -> None:
    failed, h = await run(function(), *[response(429, PAYLOAD)] * 5)
    assert len(h.upstream.requests) == 4
    assert h.sleep.delays == [1.0, 2.0, 4.0]
    assert failed.status == 429
    assert PAYLOAD not in visible(failed)


async def test_a_matching_handler_overrides_the_429_retry() -> None:
    handler = ErrorHandler(when="=@ctx.response.status = 429", title="Slow down")
    failed, h = await run(function(handler), response(429, "", headers={"Retry-After": "1"}))
    assert (failed.status, failed.title, h.sleep.delays) == (429, "Slow down", [])


async def test_a_wait_past_the_call_deadline_ends_the_call() -> None:
    failed, h = await run(
        function(),
        response(429, "", headers={"Retry-After": "8"}),
        limits=CallLimits(seconds=5.0, retry_after_cap=60.0),
    )
    assert isinstance(failed, CallBoundExceeded)
    assert failed.bound == "time"
    assert h.sleep.delays == []


# --- 401 -----------------------------------------------------------------------------------


async def test_401_refreshes_an_oauth_token_once_and_retries() -> None:
    creds = credentials()
    result, h = await run(function(), response(401, ""), response(200, {"id": "o"}), creds=creds)
    assert result.records == [{"id": "o"}]
    assert creds.refreshed == [("crm.oauth", TOKEN)]
    assert h.upstream.header(0, "authorization") == f"Bearer {TOKEN}"
    assert h.upstream.header(1, "authorization") == f"Bearer {FRESH}"


async def test_a_second_401_is_not_refreshed_again() -> None:
    creds = credentials()
    failed, h = await run(function(), response(401, PAYLOAD), response(401, PAYLOAD), creds=creds)
    assert failed.status == 401
    assert len(creds.refreshed) == 1
    assert len(h.upstream.requests) == 2
    assert FRESH not in visible(failed)


@pytest.mark.parametrize("kind", [CredentialKind.BEARER, CredentialKind.API_KEY])
async def test_401_on_a_credential_that_cannot_refresh_fails(kind: CredentialKind) -> None:
    creds = credentials(kind)
    failed, _ = await run(function(), response(401, ""), creds=creds)
    assert failed.status == 401
    assert creds.refreshed == []


async def test_disable_token_refresh_turns_the_refresh_off() -> None:
    creds = credentials()
    failed, h = await run(function(disable_token_refresh=True), response(401, ""), creds=creds)
    assert failed.status == 401
    assert creds.refreshed == []
    assert len(h.upstream.requests) == 1


async def test_a_matching_handler_overrides_the_401_refresh() -> None:
    creds = credentials()
    handler = ErrorHandler(when="=@ctx.response.status = 401", title="Reconnect the CRM")
    failed, _ = await run(function(handler), response(401, ""), creds=creds)
    assert failed.title == "Reconnect the CRM"
    assert creds.refreshed == []
