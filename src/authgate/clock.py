"""Time, passed in rather than read, so that expiry logic is testable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""A function returning the current time, timezone-aware, in UTC."""


def utc_now() -> datetime:
    """The system clock in UTC."""
    return datetime.now(UTC)
