"""One page's exchange with the upstream, retried as the function's error handling says.

FUNCTIONS.md, "REST functions", ``error``: a non-2xx answer (or an exchange that failed) is
offered to the handlers first; the first that matches decides (retry, or fail with its title).
Built in, unless a handler matched: a 429 is retried up to 3 times honouring ``Retry-After``
(capped), and a 401 refreshes the OAuth credentials of the request once and retries (not with
``disableTokenRefresh``). Otherwise the caller gets the status and a payload-free message.
Every wait goes through the injected ``sleep`` and must end before the call's deadline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authgate.functions.call import CallLimits
from authgate.functions.call_budget import CallBudget
from authgate.functions.call_credentials import CallCredentials
from authgate.functions.error_handlers import (
    Decision,
    FailDecision,
    decide,
    default_failure,
    error_document,
    response_document,
)
from authgate.functions.errors import UpstreamError
from authgate.functions.model import RestFunction
from authgate.functions.ports import Sleep, Upstream, UpstreamResponse
from authgate.functions.request import PageRequest, build_request, credential_names
from authgate.functions.response_body import decode_body, decode_error_body
from authgate.functions.retry_after import retry_after_seconds

TOO_MANY_REQUESTS = 429
UNAUTHORIZED = 401


class Exchanger:
    """Fetches pages of one call of one function."""

    __slots__ = ("_budget", "_credentials", "_function", "_limits", "_sleep", "_upstream")

    def __init__(
        self,
        function: RestFunction,
        *,
        upstream: Upstream,
        sleep: Sleep,
        budget: CallBudget,
        credentials: CallCredentials,
        limits: CallLimits,
    ) -> None:
        self._function = function
        self._upstream = upstream
        self._sleep = sleep
        self._budget = budget
        self._credentials = credentials
        self._limits = limits

    async def fetch(
        self, page: PageRequest, ctx: Mapping[str, Any]
    ) -> tuple[UpstreamResponse, Any]:
        """The successful response of ``page`` and its decoded body."""
        names = credential_names(page.parameters)
        handler_retries: dict[int, int] = {}
        throttled = 0
        while True:
            resolved = await self._credentials.resolve(names)
            request = build_request(
                page, resolved, ctx=ctx, limits=self._budget.expression_limits()
            )
            limits = self._budget.request_limits()
            try:
                response = await self._upstream.send(request, limits)
            except UpstreamError as error:
                bound = self._budget.call_bound_of(error, limits)
                if bound is not None:
                    raise bound from None
                decision = self._decide(
                    error.status, None, {**ctx, "error": error_document(error)}, handler_retries
                )
                if decision is None:
                    raise
                await self._follow(decision, handler_retries)
                continue
            self._budget.count_response(len(response.body))
            if 200 <= response.status < 300:
                return response, decode_body(response, self._function.format)

            body = decode_error_body(response, self._function.format)
            answered = {**ctx, "response": response_document(response, body)}
            decision = self._decide(response.status, body, answered, handler_retries)
            if decision is not None:
                await self._follow(decision, handler_retries)
            elif response.status == TOO_MANY_REQUESTS and throttled < self._limits.throttle_retries:
                throttled += 1
                await self._wait(self._throttle_delay(response, throttled))
            elif not (
                response.status == UNAUTHORIZED
                and not self._function.disable_token_refresh
                and await self._credentials.refresh_rejected(names)
            ):
                raise default_failure(response.status)

    def _decide(
        self, status: int, document: Any, ctx: Mapping[str, Any], retries: Mapping[int, int]
    ) -> Decision | None:
        return decide(
            self._function.error_handlers,
            status=status,
            document=document,
            ctx=ctx,
            retries_done=retries,
            limits=self._budget.expression_limits(),
        )

    async def _follow(self, decision: Decision, retries: dict[int, int]) -> None:
        if isinstance(decision, FailDecision):
            raise decision.failure
        retries[decision.handler] = retries.get(decision.handler, 0) + 1
        await self._wait(decision.delay)

    async def _wait(self, seconds: float) -> None:
        self._budget.check_delay(seconds)
        await self._sleep(seconds)

    def _throttle_delay(self, response: UpstreamResponse, attempt: int) -> float:
        cap = self._limits.retry_after_cap
        asked = retry_after_seconds(
            response.header("retry-after"), response.header("date"), cap=cap
        )
        # Without a usable Retry-After: 1 s, 2 s, 4 s, … (capped like an asked-for delay).
        return asked if asked is not None else min(float(2 ** (attempt - 1)), cap)
