"""What one function call is given and what it gives back: context, limits and result.

The context is what expressions see as ``@ctx.user`` and ``@ctx.solution`` (FUNCTIONS.md,
"Expressions"); the result is the ``{"records", "output", "pages"}`` of "What a call returns".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MEGABYTE = 1024 * 1024


@dataclass(frozen=True, slots=True)
class CallUser:
    """The signed-in user a call runs for."""

    id: str
    email: str | None = None
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class CallSolution:
    """The solution whose function is called."""

    id: str
    name: str
    organization_id: str


@dataclass(frozen=True, slots=True)
class CallContext:
    """Who calls and in which solution; never holds a credential."""

    user: CallUser
    solution: CallSolution

    def document(self) -> dict[str, Any]:
        """The ``@ctx`` fields every expression sees (names as authors write them)."""
        return {
            "user": {
                "id": self.user.id,
                "email": self.user.email,
                "displayName": self.user.display_name,
            },
            "solution": {
                "id": self.solution.id,
                "name": self.solution.name,
                "organizationId": self.solution.organization_id,
            },
        }


@dataclass(frozen=True, slots=True)
class CallLimits:
    """Bounds on one call (defaults from FUNCTIONS.md: 100 pages, 6 MB, 30 s).

    ``max_bytes`` counts response bodies over the whole call, every page and retry included;
    ``request_max_bytes`` and ``request_seconds`` bound each single request (and are cut to
    what is left of the call's budget). ``retry_after_cap`` caps an upstream's Retry-After;
    ``expression_seconds`` and ``expression_depth`` bound each expression evaluation.
    """

    max_pages: int = 100
    max_bytes: int = 6 * MEGABYTE
    seconds: float = 30.0
    request_max_bytes: int = 6 * MEGABYTE
    request_seconds: float = 30.0
    max_redirects: int = 5
    retry_after_cap: float = 10.0
    throttle_retries: int = 3
    expression_seconds: float = 1.0
    expression_depth: int = 400


@dataclass(frozen=True, slots=True)
class CallResult:
    """Every page's records in order, the last page's output, and how many pages were read."""

    records: list[Any]
    output: Any
    pages: int
