"""Syncing a solution to the device: its definition, and its local functions' credentials.

A sync asks for the definition with the ETag it holds (an unchanged version costs one 304),
then — always, so that withdrawn credentials go and OAuth tokens are fresh — for the
device-usable credentials of the version in force, and replaces what the keychain held for
the solution with exactly that. A solution the user can no longer read (404) is dropped from
the device: its definition, its credentials and its local data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from authgate.client import api
from authgate.client.home import DeviceHome, credentials_key
from authgate.client.local_calls import SyncedCredentials
from authgate.client.local_data import LocalData
from authgate.client.tokens import TokenSet
from authgate.client.wire import Flow
from authgate.functions.public_definition import is_local, local_functions


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What a sync found: the version, whether it changed, and the credentials kept."""

    solution: str
    version: int | None
    changed: bool
    functions: tuple[str, ...] = ()
    local_functions: tuple[str, ...] = ()
    credentials: tuple[str, ...] = ()
    withheld: dict[str, str] = field(default_factory=dict)
    dropped: bool = False


def sync(home: DeviceHome, solution: str, tokens: TokenSet) -> Flow[SyncReport]:
    """The sync flow for one solution."""
    held = home.read_definition(solution)
    answer = yield from api.definition(solution, held.get("etag") if held else None)
    if answer.status == 404:
        dropped = forget(home, solution)
        answer.ok()  # raises the server's not_found, after the device forgot the solution
        return SyncReport(solution, None, dropped, dropped=dropped)  # pragma: no cover
    if answer.status == 304 and held is not None:
        record, changed = held, False
    else:
        body = answer.ok()
        local_functions(body["definition"])  # every local function must read back, or fail now
        claims = tokens.claims()
        user = yield from api.me()
        etag = answer.headers.get("etag", "")
        record = {
            "etag": etag,
            "version": body["version"],
            "definition": body["definition"],
            "user": {
                "id": user.get("id", claims.get("sub", "")),
                "email": user.get("email"),
                "displayName": user.get("display_name"),
            },
            "solution": {
                "id": etag.strip('"').rsplit(".", 1)[0],
                "name": body["name"],
                "organizationId": claims.get("org", ""),
            },
        }
        changed = held is None or held.get("etag") != etag
    functions: dict[str, Any] = record["definition"].get("functions", {})
    local = tuple(sorted(name for name, entry in functions.items() if is_local(entry)))
    synced = SyncedCredentials()
    if local:
        found = yield from api.device_credentials(solution)
        synced = SyncedCredentials(dict(found["credentials"]), dict(found["withheld"]))
    home.write_definition(solution, record)
    if synced.entries or synced.withheld:
        home.secrets.set(credentials_key(solution), synced.to_json())
    else:
        home.secrets.delete(credentials_key(solution))
    return SyncReport(
        solution=solution,
        version=int(record["version"]),
        changed=changed,
        functions=tuple(sorted(functions)),
        local_functions=local,
        credentials=tuple(sorted(synced.entries)),
        withheld={name: str(item.get("reason", "")) for name, item in synced.withheld.items()},
    )


def forget(home: DeviceHome, solution: str) -> bool:
    """Remove a solution from the device; True when it was there."""
    had = home.forget_definition(solution)
    home.secrets.delete(credentials_key(solution))
    LocalData(home.database_path(solution)).drop()
    return had
