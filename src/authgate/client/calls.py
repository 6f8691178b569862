"""What both clients do around a function call: plan it from the synced definition, run it
locally with the engine, and keep its records in the local database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from authgate.client.errors import NotSynced
from authgate.client.home import DeviceHome, checked_name, credentials_key
from authgate.client.local_calls import DeviceResolver, Refresher, SyncedCredentials
from authgate.client.local_data import LocalData
from authgate.client.upstream import HttpxUpstream
from authgate.errors import NotFound
from authgate.functions.call import CallLimits, CallResult
from authgate.functions.engine import FunctionEngine
from authgate.functions.model import RestFunction
from authgate.functions.public_definition import is_local, local_functions

PageCallback = Callable[[int], None]
"""Told the number of pages read so far, after each page (local calls) or once (cloud)."""


@dataclass(frozen=True, slots=True)
class CallPlan:
    """Where a function runs and where its records go."""

    solution: str
    function: str
    local: RestFunction | None
    merge: bool
    table: str
    record: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """A call's records, last output and pages; where it ran; the table it wrote."""

    records: list[Any]
    output: Any
    pages: int
    ran: Literal["local", "cloud"]
    table: str
    rows: int
    """Rows in the table after the call (more than ``records`` when merging)."""


def plan(home: DeviceHome, solution: str, function: str, table: str | None) -> CallPlan:
    """The plan of a call, from the solution as last synced."""
    record = home.read_definition(solution)
    if record is None:
        raise NotSynced(f"solution '{solution}' is not on this device; run `authgate sync` first")
    entry = record["definition"].get("functions", {}).get(function)
    if not isinstance(entry, dict):
        raise NotFound(
            f"solution '{solution}' has no function '{function[:128]}' (as last synced); "
            "sync again if it was added since"
        )
    local = None
    if is_local(entry):
        local = local_functions({"name": solution, "functions": {function: entry}})[function]
    return CallPlan(
        solution=solution,
        function=function,
        local=local,
        merge=bool(entry.get("forRowsWithMatchingIds")),
        table=checked_name("table", table or function),
        record=record,
    )


def engine(upstream: HttpxUpstream, limits: CallLimits) -> FunctionEngine:
    """The server's engine, on the device."""
    return FunctionEngine(upstream, sleep=asyncio.sleep, monotonic=time.monotonic, limits=limits)


def resolver(home: DeviceHome, solution: str, refresher: Refresher | None) -> DeviceResolver:
    """Credentials for a local call, from the keychain."""
    synced = SyncedCredentials.from_json(home.secrets.get(credentials_key(solution)))
    return DeviceResolver(synced, refresher)


def keep_refreshed(home: DeviceHome, solution: str, used: DeviceResolver) -> None:
    """Put credentials refreshed during a call back into the keychain."""
    if not used.refreshed:
        return
    synced = SyncedCredentials.from_json(home.secrets.get(credentials_key(solution)))
    synced.entries.update(used.refreshed)
    home.secrets.set(credentials_key(solution), synced.to_json())


def store(home: DeviceHome, call: CallPlan, result: CallResult) -> CallOutcome:
    """Write the records into the local database and describe the outcome."""
    rows = LocalData(home.database_path(call.solution)).write(
        call.table, result.records, merge=call.merge, function=call.function
    )
    return CallOutcome(
        records=result.records,
        output=result.output,
        pages=result.pages,
        ran="local" if call.local is not None else "cloud",
        table=call.table,
        rows=rows,
    )


def page_counter(on_page: PageCallback | None) -> Callable[[Any], None] | None:
    """An upstream response hook that reports pages as they arrive."""
    if on_page is None:
        return None
    seen = [0]

    def counted(_: Any) -> None:
        seen[0] += 1
        on_page(seen[0])

    return counted
