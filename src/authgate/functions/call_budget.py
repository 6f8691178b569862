"""The bounds of one function call as they are used up: pages, response bytes and time.

FUNCTIONS.md: "Pages, bytes and time are bounded … and hitting a bound is an error that says
which." Each request gets what is left of the call's budget (never more than the per-request
bounds), so one slow or large page cannot take the call past its bounds either.
"""

from __future__ import annotations

from authgate.functions.call import CallLimits
from authgate.functions.errors import CallBoundExceeded, UpstreamError
from authgate.functions.expressions import EvaluationLimits
from authgate.functions.ports import Monotonic, UpstreamLimits

# Stable codes of the egress client's errors (authgate.egress.errors), matched by code
# because the domain may not import the adapter.
_TOO_LARGE = "upstream_response_too_large"
_TIMEOUT = "upstream_timeout"


class CallBudget:
    """Pages read, bytes received and the deadline of one call."""

    __slots__ = ("_deadline", "_limits", "_monotonic", "bytes_used", "pages")

    def __init__(self, limits: CallLimits, monotonic: Monotonic) -> None:
        self._limits = limits
        self._monotonic = monotonic
        self._deadline = monotonic() + limits.seconds
        self.bytes_used = 0
        self.pages = 0

    def start_page(self) -> None:
        """Count a page about to be requested; past ``max_pages`` the call ends."""
        if self.pages >= self._limits.max_pages:
            raise self.exceeded("pages")
        self.pages += 1

    def request_limits(self) -> UpstreamLimits:
        """The bounds of the next request: the per-request ones, cut to what is left."""
        seconds = self._remaining_seconds()
        if seconds <= 0:
            raise self.exceeded("time")
        remaining_bytes = self._limits.max_bytes - self.bytes_used
        if remaining_bytes <= 0:
            raise self.exceeded("bytes")
        return UpstreamLimits(
            max_bytes=min(self._limits.request_max_bytes, remaining_bytes),
            timeout=min(self._limits.request_seconds, seconds),
            max_redirects=self._limits.max_redirects,
        )

    def count_response(self, size: int) -> None:
        """Add a response body's size; past ``max_bytes`` the call ends."""
        self.bytes_used += size
        if self.bytes_used > self._limits.max_bytes:
            raise self.exceeded("bytes")

    def check_delay(self, seconds: float) -> None:
        """Refuse a wait that would end after the call's deadline."""
        if seconds >= self._remaining_seconds():
            raise self.exceeded("time")

    def expression_limits(self) -> EvaluationLimits:
        """Bounds of one expression evaluation, never past the call's deadline."""
        return EvaluationLimits(
            seconds=max(min(self._limits.expression_seconds, self._remaining_seconds()), 0.0),
            max_depth=self._limits.expression_depth,
            clock=self._monotonic,
        )

    def call_bound_of(self, error: UpstreamError, used: UpstreamLimits) -> CallBoundExceeded | None:
        """The call's bound behind ``error`` when the request only had the call's remainder.

        A request cut short by what was left of the call's budget passed the call's bound,
        not its own; the caller should hear which.
        """
        if error.code == _TOO_LARGE and used.max_bytes < self._limits.request_max_bytes:
            return self.exceeded("bytes")
        if error.code == _TIMEOUT and used.timeout < self._limits.request_seconds:
            return self.exceeded("time")
        return None

    def exceeded(self, bound: str) -> CallBoundExceeded:
        """The error for passing ``bound`` (``pages``, ``bytes`` or ``time``)."""
        limits = self._limits
        if bound == "pages":
            return CallBoundExceeded(
                "pages",
                502,
                f"The function call passed its bound of {limits.max_pages} pages",
                "the continuation still asked for more; narrow the request or page size",
            )
        if bound == "bytes":
            return CallBoundExceeded(
                "bytes",
                502,
                f"The function call passed its bound of {limits.max_bytes} response bytes",
                "the upstream's answers, all pages together, were larger; request less data",
            )
        return CallBoundExceeded(
            "time",
            504,
            f"The function call passed its bound of {limits.seconds:g} seconds",
            "the upstream, its pages and retries took longer; request less or retry later",
        )

    def _remaining_seconds(self) -> float:
        return self._deadline - self._monotonic()
