"""What the function engine needs from the outside: an upstream to send to, and credentials.

The engine does no I/O of its own. ``authgate.egress`` implements :class:`Upstream` (the
SSRF-safe client); ``authgate.vault`` implements :class:`CredentialResolver`, bound by the
caller to one call's organization, solution, function and user so that every use is audited.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    """One HTTP request to an upstream.

    ``sensitive_headers`` (lower-case names) carry credentials: they are dropped when a
    redirect leaves the origin. ``allowed_hosts``, when set, are the only hosts (lower-case,
    no port) this request and any redirect of it may reach, because a credential rides on it.
    """

    method: str
    url: str
    headers: Headers = ()
    body: bytes | None = None
    sensitive_headers: frozenset[str] = frozenset()
    allowed_hosts: frozenset[str] | None = None

    def __repr__(self) -> str:
        # Never show header values or the body: they may hold credentials or payloads.
        return f"UpstreamRequest({self.method} {self.url})"


@dataclass(frozen=True, slots=True)
class UpstreamLimits:
    """Bounds on one request: response bytes (after decoding), seconds, redirect hops."""

    max_bytes: int
    timeout: float
    max_redirects: int = 5


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    """An upstream's answer, read in full within the limits. Header names are lower-case."""

    status: int
    headers: Headers
    body: bytes
    url: str
    http_version: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        """The first value of a header, or ``None``."""
        wanted = name.lower()
        for key, value in self.headers:
            if key == wanted:
                return value
        return None

    def __repr__(self) -> str:
        return f"UpstreamResponse({self.status} from {self.url}, {len(self.body)} bytes)"


class Upstream(Protocol):
    """Sends requests to upstream APIs."""

    async def send(self, request: UpstreamRequest, limits: UpstreamLimits) -> UpstreamResponse:
        """The response, or an :class:`authgate.functions.errors.UpstreamError`."""
        ...


class CredentialKind(StrEnum):
    """What a resolved credential is, which decides how it is sent."""

    SECRET = "secret"  # sent as its value (a header, query or body parameter)
    API_KEY = "api_key"  # sent as its value
    BEARER = "bearer"  # sent as ``Authorization: Bearer <value>`` in an accessToken header
    OAUTH = "oauth"  # an OAuth access token; as BEARER, and refreshable after a 401
    BASIC = "basic"  # ``user:password``; refused through the cloud proxy


@dataclass(frozen=True, slots=True)
class ResolvedCredential:
    """A credential's value for the length of one call. Never logged, never returned."""

    name: str
    kind: CredentialKind
    value: str = field(repr=False)
    allowed_hosts: frozenset[str] = frozenset()

    @property
    def refreshable(self) -> bool:
        """Whether a 401 may be answered by refreshing this credential once."""
        return self.kind is CredentialKind.OAUTH


class CredentialResolver(Protocol):
    """Credentials for one call (organization, solution, function and user already bound)."""

    async def resolve(self, name: str) -> ResolvedCredential:
        """The credential's current value; raises ``NotFound`` or a consent error."""
        ...

    async def refresh(self, name: str, rejected: ResolvedCredential) -> ResolvedCredential:
        """A fresh value after the upstream rejected ``rejected`` (once per 401)."""
        ...


Sleep = Callable[[float], Awaitable[None]]
"""Waits the given seconds (``asyncio.sleep``; tests pass a recorder)."""

Monotonic = Callable[[], float]
"""Seconds on a monotonic clock (``time.monotonic``; tests pass a fake)."""
