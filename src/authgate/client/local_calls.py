"""Running a ``useLocalCall`` function on the device, with the server's own engine.

The definition and credentials come from the last sync; the credentials are read from the
keychain for the call and never written anywhere else. As in the cloud, every credential
value is redacted from what the call returns (an upstream may echo a token), so no secret
reaches the local database or the CLI's output. A 401 on an OAuth credential asks the
server once for a fresh access token (the only server request a local call can make).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from authgate.client.errors import NotSynced, ServerError
from authgate.errors import NotFound
from authgate.functions.call import CallContext, CallResult, CallSolution, CallUser
from authgate.functions.engine import FunctionEngine
from authgate.functions.errors import FunctionCallFailed
from authgate.functions.model import RestFunction
from authgate.functions.ports import CredentialKind, ResolvedCredential
from authgate.functions.redaction import RecordingResolver, redact

_KINDS = {
    "secret": CredentialKind.SECRET,
    "api_key": CredentialKind.API_KEY,
    "bearer": CredentialKind.BEARER,
    "oauth": CredentialKind.OAUTH,
}

Refresher = Callable[[str, str], Awaitable[Mapping[str, Any]]]
"""Asks the server for a credential again: (name, the refused value) → the new entry."""


@dataclass
class SyncedCredentials:
    """A solution's credentials as the last sync left them in the keychain."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    withheld: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str | None) -> SyncedCredentials:
        """As :meth:`to_json` wrote it (``None``: nothing synced)."""
        if not text:
            return cls()
        data = orjson.loads(text)
        return cls(dict(data.get("credentials", {})), dict(data.get("withheld", {})))

    def to_json(self) -> str:
        """For the keychain."""
        return orjson.dumps({"credentials": self.entries, "withheld": self.withheld}).decode()


def resolved(name: str, entry: Mapping[str, Any]) -> ResolvedCredential:
    """The engine's credential from a synced entry."""
    kind = _KINDS.get(str(entry.get("kind")))
    if kind is None or not isinstance(entry.get("value"), str):
        raise NotSynced(f"credential '{name}' on this device is not usable; sync again")
    return ResolvedCredential(
        name=name,
        kind=kind,
        value=entry["value"],
        allowed_hosts=frozenset(str(h).lower() for h in entry.get("allowedHosts", ())),
    )


class DeviceResolver:
    """The engine's :class:`~authgate.functions.ports.CredentialResolver` on a device."""

    def __init__(self, credentials: SyncedCredentials, refresher: Refresher | None) -> None:
        self._credentials = credentials
        self._refresher = refresher
        self.refreshed: dict[str, dict[str, Any]] = {}

    async def resolve(self, name: str) -> ResolvedCredential:
        """The synced value; an error naming why when the server withheld it."""
        entry = self._credentials.entries.get(name)
        if entry is not None:
            return resolved(name, entry)
        withheld = self._credentials.withheld.get(name)
        if withheld is not None:
            details = {k: v for k, v in withheld.items() if k not in ("reason", "message")}
            raise ServerError(
                str(withheld.get("reason", "credential_withheld")),
                403,
                f"credential '{name}' is not available on this device: "
                f"{withheld.get('message', 'withheld by the server')}",
                details or None,
            )
        raise NotSynced(f"credential '{name}' is not on this device; run `authgate sync` first")

    async def refresh(self, name: str, rejected: ResolvedCredential) -> ResolvedCredential:
        """A fresh OAuth access token from the server after the upstream refused one."""
        if self._refresher is None:
            raise NotFound(f"credential '{name}' cannot be refreshed on this device")
        entry = dict(await self._refresher(name, rejected.value))
        self._credentials.entries[name] = entry
        self.refreshed[name] = entry
        return resolved(name, entry)


def call_context(record: Mapping[str, Any]) -> CallContext:
    """``@ctx.user`` and ``@ctx.solution`` as the server would give them, from the sync."""
    user = record.get("user") or {}
    solution = record.get("solution") or {}
    return CallContext(
        CallUser(str(user.get("id", "")), user.get("email"), user.get("displayName")),
        CallSolution(
            str(solution.get("id", "")),
            str(solution.get("name", "")),
            str(solution.get("organizationId", "")),
        ),
    )


async def run_local(
    engine: FunctionEngine,
    function: RestFunction,
    parameters: Mapping[str, Any],
    *,
    context: CallContext,
    resolver: DeviceResolver,
) -> CallResult:
    """Run ``function`` with the engine; credential values redacted from the result."""
    recording = RecordingResolver(resolver)
    try:
        result = await engine.call(function, parameters, context=context, credentials=recording)
    except FunctionCallFailed as failed:
        failed.title = failed.message = redact(failed.title, recording.values)
        failed.description = redact(failed.description, recording.values)
        failed.call_details = redact(failed.call_details, recording.values)
        raise
    return replace(
        result,
        records=redacted(result.records, recording.values),
        output=redacted(result.output, recording.values),
    )


def redacted(data: Any, secrets: set[str]) -> Any:
    """:func:`redact`, skipping the walk through every value when the data, serialized,
    holds none of the secrets (a large result is mostly data that never quotes one).

    Only secrets JSON writes as they are qualify for the shortcut: a quote, a backslash or a
    control character would be escaped in the serialized text and could hide there.
    """
    if not secrets:
        return data
    if all(_written_as_is(secret) for secret in secrets):
        try:
            text = orjson.dumps(data)
        except TypeError:  # a lone surrogate, or a value JSON cannot hold: walk it
            return redact(data, secrets)
        if not any(secret.encode() in text for secret in secrets):
            return data
    return redact(data, secrets)


def _written_as_is(secret: str) -> bool:
    return not any(ch in '"\\' or ord(ch) < 0x20 for ch in secret)
