"""What functions need from the outside: an upstream, credentials, and solution storage.

The engine does no I/O of its own. ``authgate.egress`` implements :class:`Upstream` (the
SSRF-safe client); ``authgate.vault`` implements :class:`CredentialResolver`, bound by the
caller to one call's organization, solution, function and user so that every use is audited.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from authgate.identity.deps import Actor

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


class SolutionRole(StrEnum):
    """A member's role in one solution: USER calls it, MAKER also publishes it."""

    MAKER = "MAKER"
    USER = "USER"


@dataclass(frozen=True, slots=True)
class SolutionRecord:
    """A solution of an organization and the version in force."""

    id: str
    org_id: str
    name: str
    title: str | None
    description: str | None
    version: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SolutionVersion:
    """One published version: the definition as its JSON document, and who published it."""

    solution_id: str
    version: int
    document: Mapping[str, Any]
    warnings: tuple[str, ...]
    published_by: str | None
    published_at: datetime


@dataclass(frozen=True, slots=True)
class SolutionMember:
    """A user's role in a solution."""

    solution_id: str
    user_id: str
    role: SolutionRole
    added_at: datetime


@dataclass(frozen=True, slots=True)
class CallTarget:
    """What a call needs to know in one lookup: the solution, its version, the caller's role."""

    solution: SolutionRecord
    role: SolutionRole | None
    user_email: str | None = None
    user_display_name: str | None = None
    user_active: bool = False
    """The user exists and is not disabled (email and display name are then set)."""
    session_live: bool = True
    """The session asked about (if any) exists, is not revoked and has not expired."""


class SolutionRepository(Protocol):
    """Where solutions, their versions and their members are kept."""

    async def get(self, org_id: str, name: str) -> SolutionRecord | None:
        """A solution by organization and name."""
        ...

    async def list_for_org(self, org_id: str) -> list[SolutionRecord]:
        """Every solution of an organization, by name."""
        ...

    async def publish(self, record: SolutionRecord, version: SolutionVersion) -> None:
        """Store ``version`` and make it current. ``record.version`` is the new number; it must
        be one above the stored one (or 1 for a new solution), else ``Conflict``."""
        ...

    async def version(self, solution_id: str, version: int) -> SolutionVersion | None:
        """One published version."""
        ...

    async def call_target(
        self,
        org_id: str,
        name: str,
        user_id: str,
        session: tuple[str, datetime] | None = None,
    ) -> CallTarget | None:
        """The solution, the user's role in it and the user's profile — and, with ``session``
        (its id and the time now), whether that session is live — in one query (every call
        runs it)."""
        ...

    async def set_member(self, member: SolutionMember) -> None:
        """Add a member or change their role."""
        ...

    async def remove_member(self, solution_id: str, user_id: str) -> bool:
        """Remove a member; True when there was one."""
        ...

    async def list_members(self, solution_id: str) -> list[SolutionMember]:
        """The members of a solution."""
        ...

    async def delete(self, solution_id: str) -> bool:
        """Remove a solution with its versions and members; True when it existed."""
        ...


class CredentialDirectory(Protocol):
    """The vault as publishing sees it: names only."""

    async def names(self, org_id: str, solution: str | None) -> frozenset[str]:
        """Names of the credentials usable by ``solution`` (its own and organization-wide)."""
        ...


class CredentialResolvers(Protocol):
    """Builds the resolver for one call, bound to who calls what (for the audit log)."""

    def for_call(
        self, *, org_id: str, solution: str, function: str, actor: Actor
    ) -> CredentialResolver:
        """A resolver that audits each use as this call's."""
        ...
