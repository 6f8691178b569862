"""The delay an upstream asks for in ``Retry-After`` (RFC 9110 §10.2.3).

The header is either a number of seconds or an HTTP-date (RFC 9110 §5.6.7). A date is measured
against the response's own ``Date`` header, so that no clock of ours is needed and a skewed
upstream clock cancels out; without a ``Date`` the date form cannot be used.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime


def retry_after_seconds(
    value: str | None, response_date: str | None, *, cap: float
) -> float | None:
    """Seconds to wait, between 0 and ``cap``; ``None`` when absent or unusable."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return min(float(text), cap)
    if response_date is None:
        return None
    try:
        until = parsedate_to_datetime(text)
        now = parsedate_to_datetime(response_date)
        seconds = (until - now).total_seconds()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return min(max(seconds, 0.0), cap)
