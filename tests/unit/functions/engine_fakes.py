"""In-memory peers of the function engine: a scripted upstream, a credential store, a clock.

The engine's unit tests run against these; real upstream servers are used end to end.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from authgate.functions.call import CallContext, CallLimits, CallSolution, CallUser
from authgate.functions.engine import FunctionEngine
from authgate.functions.errors import UpstreamError
from authgate.functions.model import Parameter, ParameterLocation, ParameterType
from authgate.functions.ports import (
    CredentialKind,
    ResolvedCredential,
    UpstreamLimits,
    UpstreamRequest,
    UpstreamResponse,
)

Script = UpstreamResponse | UpstreamError | Callable[[UpstreamRequest], UpstreamResponse]


def response(
    status: int = 200,
    body: bytes | str | Any = b"",
    *,
    headers: Mapping[str, str] | None = None,
    url: str = "https://api.example.com/",
) -> UpstreamResponse:
    """A response; a body that is neither bytes nor str is sent as JSON."""
    if isinstance(body, str):
        raw = body.encode()
    elif isinstance(body, bytes):
        raw = body
    else:
        raw = json.dumps(body).encode()
    pairs = tuple((k.lower(), v) for k, v in (headers or {}).items())
    return UpstreamResponse(status=status, headers=pairs, body=raw, url=url)


class ScriptedUpstream:
    """Answers requests from a script, in order, and records every request with its limits."""

    def __init__(self, *script: Script, clock: FakeClock | None = None, cost: float = 0.0) -> None:
        self.script = list(script)
        self.requests: list[UpstreamRequest] = []
        self.limits: list[UpstreamLimits] = []
        self._clock = clock
        self._cost = cost

    async def send(self, request: UpstreamRequest, limits: UpstreamLimits) -> UpstreamResponse:
        self.requests.append(request)
        self.limits.append(limits)
        if self._clock is not None:
            self._clock.advance(self._cost)
        if not self.script:
            raise AssertionError(f"unexpected request {request!r}")
        step = self.script.pop(0)
        if isinstance(step, UpstreamError):
            raise step
        if isinstance(step, UpstreamResponse):
            return step
        return step(request)

    def header(self, index: int, name: str) -> str | None:
        """A header of the ``index``-th request (names are compared in lower case)."""
        values = [v for k, v in self.requests[index].headers if k == name.lower()]
        return values[0] if values else None


@dataclass
class FakeClock:
    """A monotonic clock that moves only when told (or when the fake sleep waits)."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class SleepRecorder:
    """Records the delays the engine waits and moves the fake clock by them."""

    clock: FakeClock
    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.clock.advance(seconds)


class MemoryCredentials:
    """A credential resolver over a dict; ``refreshes`` are handed out on refresh in order."""

    def __init__(
        self, *credentials: ResolvedCredential, refreshes: Mapping[str, list[str]] | None = None
    ) -> None:
        self.values = {c.name: c for c in credentials}
        self.refreshes = {name: list(values) for name, values in (refreshes or {}).items()}
        self.resolved: list[str] = []
        self.refreshed: list[tuple[str, str]] = []

    async def resolve(self, name: str) -> ResolvedCredential:
        self.resolved.append(name)
        return self.values[name]

    async def refresh(self, name: str, rejected: ResolvedCredential) -> ResolvedCredential:
        self.refreshed.append((name, rejected.value))
        current = self.values[name]
        fresh = ResolvedCredential(
            name, current.kind, self.refreshes[name].pop(0), current.allowed_hosts
        )
        self.values[name] = fresh
        return fresh


def credential(
    name: str,
    value: str,
    kind: CredentialKind = CredentialKind.OAUTH,
    hosts: tuple[str, ...] = ("api.example.com",),
) -> ResolvedCredential:
    return ResolvedCredential(name, kind, value, frozenset(hosts))


def param(
    name: str,
    location: ParameterLocation | str,
    type: ParameterType | str = ParameterType.STRING,
    *,
    required: bool = False,
    value: Any = None,
    credential: str | None = None,
) -> tuple[str, Parameter]:
    """A ``(name, Parameter)`` pair for ``dict(...)`` of a function's parameters."""
    return name, Parameter(
        name,
        ParameterLocation(location),
        ParameterType(type),
        required=required,
        value=value,
        credential=credential,
    )


CONTEXT = CallContext(
    CallUser("usr_1", "bea@example.net", "Bea Example"),
    CallSolution("sol_1", "crm", "org_1"),
)


@dataclass
class Harness:
    """An engine wired to fakes, with its clock and sleep recorder at hand."""

    upstream: ScriptedUpstream
    clock: FakeClock
    sleep: SleepRecorder
    engine: FunctionEngine


def harness(
    *script: Script, limits: CallLimits | None = None, request_cost: float = 0.0
) -> Harness:
    clock = FakeClock()
    upstream = ScriptedUpstream(*script, clock=clock, cost=request_cost)
    sleep = SleepRecorder(clock)
    engine = FunctionEngine(upstream, sleep=sleep, monotonic=clock, limits=limits or CallLimits())
    return Harness(upstream, clock, sleep, engine)
