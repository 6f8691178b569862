"""The device client's local execution: a paged REST function run on the device into SQLite.

    python bench/client_bench.py --seconds S --warmup W     (run by the harness on core 0)
    python bench/client_bench.py --upstream                  (the REST upstream, on core 1)

The upstream serves pre-rendered JSON pages of 1,000 rows (``{"value": [...], "next": …}``)
with a bearer token check, from its own process on core 1. On core 0, in one process:

* authgate: ``AsyncClient.call`` of a ``useLocalCall`` function synced to the device — the
  credential read from the secret store, the server's engine (argument checks, the request
  with its credential, continuation over every page, ``records``, redaction of credential
  values), httpx, and the records written into the solution's SQLite table (replaced);
* peer: the same pages fetched with the same httpx client, parsed with orjson and written
  with one ``executemany`` into a table of the same shape — what a hand-written loop costs.

Both are measured for 1,000 rows (one page) and 100,000 rows (100 pages), alternating in
halves of the measured time. Then the local SQLite write rate (rows/s) alone, replacing and
merging by id, and where the time of one 100,000-row call goes. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import httpx  # noqa: E402
import orjson  # noqa: E402

from authgate.client import AsyncClient  # noqa: E402
from authgate.client import calls as client_calls  # noqa: E402
from authgate.client.home import DeviceHome, credentials_key  # noqa: E402
from authgate.client.local_calls import SyncedCredentials, call_context, run_local  # noqa: E402
from authgate.client.local_data import LocalData  # noqa: E402
from authgate.client.upstream import HttpxUpstream  # noqa: E402
from authgate.functions.call import CallLimits  # noqa: E402

if TYPE_CHECKING:
    from harness import Bench

TOKEN = "bench-device-token-0123456789"
PER_PAGE = 1_000
SIZES = (1_000, 100_000)
DEVICE = "authgate AsyncClient.call (engine + SQLite)"
PEER = "httpx + orjson + sqlite3 executemany"
WRITE = "local SQLite write"
LIMITS = CallLimits(
    max_pages=200, max_bytes=256 * 1024 * 1024, seconds=120, request_max_bytes=8 * 1024 * 1024,
    request_seconds=60,
)  # fmt: skip


def scenario(rows: int) -> str:
    """The scenario name of a call returning ``rows`` rows."""
    return f"local call, paged REST into SQLite, {rows:,} rows (calls/s)"


# --- the upstream (core 1) ---------------------------------------------------------------


def _pages(port: int, pages: int, tag: str) -> list[bytes]:
    bodies = []
    for page in range(1, pages + 1):
        rows = [
            {"id": f"{page}-{n}", "name": f"item {page}-{n}", "price": n * 1.5, "stock": n % 7}
            for n in range(PER_PAGE)
        ]
        body: dict[str, Any] = {"value": rows}
        if page < pages:
            body["next"] = f"http://127.0.0.1:{port}/{tag}?page={page + 1}"
        data = orjson.dumps(body)
        bodies.append(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
            + str(len(data)).encode()
            + b"\r\n\r\n"
            + data
        )
    return bodies


async def serve_upstream() -> None:
    """Serve ``/small`` (1 page) and ``/large`` (100 pages) on a free port; print the port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    answers = {"small": _pages(port, 1, "small"), "large": _pages(port, 100, "large")}
    refused = b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1].decode()
                path, _, query = target.partition("?")
                page = int(query.rpartition("=")[2]) if "page=" in query else 1
                if f"bearer {TOKEN}".encode() not in head.lower():
                    writer.write(refused)
                else:
                    writer.write(answers[path.strip("/")][page - 1])
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, sock=listener)
    print(port, flush=True)
    async with server:
        await server.serve_forever()


# --- the device (core 0) -----------------------------------------------------------------


class _Memory:
    """The device's secret store, in memory (the keychain is not what is measured)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def set(self, key: str, value: str) -> None:
        self.values[key] = value

    def delete(self, key: str) -> None:
        self.values.pop(key, None)


def _function(port: int, path: str) -> dict[str, Any]:
    header = {"location": "header", "type": "string", "required": True, "credential": "inv.token"}
    return {
        "provider": "DATA_PROVIDER_REST", "method": "GET",
        "url": f"http://127.0.0.1:{port}/{path}", "format": "json", "formatName": "json",
        "useLocalCall": True, "parameters": {"accessToken": header}, "inputTransform": None,
        "outputTransform": "=$", "records": "=$.value",
        "continuation": {"when": "=$.next", "url": "=$.next",
                         "parameters": {"accessToken": header}},
        "error": [], "forRowsWithMatchingIds": False, "disableTokenRefresh": False,
    }  # fmt: skip


def device_home(root: Path, port: int) -> DeviceHome:
    """A device on which the ``inventory`` solution is synced (as ``authgate sync`` leaves it)."""
    home = DeviceHome(root, "http://127.0.0.1:9", _Memory())
    home.write_definition(
        "inventory",
        {
            "etag": '"s1.1"', "version": 1,
            "definition": {"name": "inventory", "functions": {
                "small": _function(port, "small"), "large": _function(port, "large")}},
            "user": {"id": "u1", "email": "ada@acme.test", "displayName": "Ada"},
            "solution": {"id": "s1", "name": "inventory", "organizationId": "o1"},
        },
    )  # fmt: skip
    synced = SyncedCredentials(
        {"inv.token": {"kind": "bearer", "value": TOKEN, "allowedHosts": ["127.0.0.1"]}}
    )
    home.secrets.set(credentials_key("inventory"), synced.to_json())
    return home


async def peer_call(http: httpx.AsyncClient, url: str, db: Path) -> int:
    """The hand-written loop: fetch every page, parse, write the rows."""
    rows: list[tuple[str, str]] = []
    headers = {"authorization": f"Bearer {TOKEN}"}
    next_url: str | None = url
    while next_url:
        body = orjson.loads((await http.get(next_url, headers=headers)).content)
        rows.extend((str(r["id"]), orjson.dumps(r).decode()) for r in body["value"])
        next_url = body.get("next")
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY, data TEXT NOT NULL)")
        conn.execute("DELETE FROM t")
        conn.executemany("INSERT INTO t (id, data) VALUES (?, ?)", rows)
    return len(rows)


async def rate(action: Callable[[], Awaitable[object]], seconds: float) -> tuple[int, float]:
    """Calls done in ``seconds`` (at least one), and the time they took."""
    done, started = 0, time.perf_counter()
    while True:
        await action()
        done += 1
        spent = time.perf_counter() - started
        if spent >= seconds:
            return done, spent


async def side_by_side(
    sides: dict[str, Callable[[], Awaitable[object]]], seconds: float, warmup: float
) -> dict[str, float]:
    """Calls/s of each side, measured in two alternating halves."""
    for action in sides.values():
        await rate(action, warmup / len(sides))
    totals = {name: [0, 0.0] for name in sides}
    for _ in range(2):
        for name, action in sides.items():
            done, spent = await rate(action, seconds / 4)
            totals[name][0] += done
            totals[name][1] += spent
    return {name: done / spent for name, (done, spent) in totals.items()}


def write_rates(folder: Path) -> dict[str, float]:
    """Rows/s of the local table write alone: 100,000 rows replaced, then merged by id."""
    rows = [{"id": f"r{n}", "name": f"item {n}", "price": n * 1.5} for n in range(100_000)]
    data = LocalData(folder / "writes.sqlite")
    data.write("t", rows, merge=False, function="f")
    found: dict[str, float] = {}
    for label, merge in (("replace", False), ("merge by id", True)):
        started = time.perf_counter()
        data.write("t", rows, merge=merge, function="f")
        found[label] = len(rows) / (time.perf_counter() - started)
    return found


async def breakdown(client: AsyncClient, http: httpx.AsyncClient) -> dict[str, float]:
    """Seconds of one 100,000-row call: fetching and the engine, then the SQLite write."""
    plan = client_calls.plan(client.home, "inventory", "large", None)
    assert plan.local is not None
    started = time.perf_counter()
    result = await run_local(
        client_calls.engine(HttpxUpstream(http), LIMITS),
        plan.local,
        {},
        context=call_context(plan.record),
        resolver=client_calls.resolver(client.home, "inventory", None),
    )
    engine_done = time.perf_counter()
    client_calls.store(client.home, plan, result)
    stored = time.perf_counter()
    raw = 0.0
    for page in range(1, 101):
        response = await http.get(
            f"{plan.local.url}?page={page}", headers={"authorization": f"Bearer {TOKEN}"}
        )
        began = time.perf_counter()
        orjson.loads(response.content)
        raw += time.perf_counter() - began
    return {
        "fetch, engine and transforms (s)": engine_done - started,
        "SQLite write (s)": stored - engine_done,
        "orjson parse of the same pages alone (s)": raw,
    }


async def measure_device(port: int, seconds: float, warmup: float) -> dict[str, Any]:
    """Every device-side figure."""
    folder = Path(tempfile.mkdtemp(prefix="authgate-client-bench-"))
    home = device_home(folder, port)
    figures: dict[str, Any] = {}
    async with (
        AsyncClient(home=home, limits=LIMITS) as client,
        httpx.AsyncClient(timeout=60) as http,
    ):
        for rows, function in zip(SIZES, ("small", "large"), strict=True):
            url = f"http://127.0.0.1:{port}/{function}"

            async def device(function: str = function) -> object:
                return await client.call("inventory", function)

            async def peer(url: str = url) -> object:
                return await peer_call(http, url, folder / "peer.sqlite")

            figures[scenario(rows)] = await side_by_side(
                {DEVICE: device, PEER: peer}, seconds, warmup
            )
        figures[WRITE] = write_rates(folder)
        figures["breakdown"] = await breakdown(client, http)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream", action="store_true", help="serve the paged upstream")
    parser.add_argument("--port", type=int, help="the upstream's port (device side)")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3)
    args = parser.parse_args()
    if args.upstream:
        asyncio.run(serve_upstream())
        return
    print(json.dumps(asyncio.run(measure_device(args.port, args.seconds, args.warmup))))


# --- the harness's part (`bench/run --only client`) ----------------------------------------


def measure(bench: Bench) -> None:
    """The upstream on core 1, the device on core 0; rows for the table."""
    from report import Row
    from servers import pinned

    bench.say(f"device client: {bench.args.warmup:g} s warm-up, {bench.args.duration:g} s per size")
    upstream = subprocess.Popen(
        ["taskset", "-c", "1", sys.executable, str(Path(__file__)), "--upstream"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert upstream.stdout is not None
        port = upstream.stdout.readline().strip()
        command = pinned(
            sys.executable, Path(__file__), "--port", port,
            "--seconds", str(bench.args.duration), "--warmup", str(bench.args.warmup),
        )  # fmt: skip
        timeout = 4 * (bench.args.duration + bench.args.warmup) + 300
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    finally:
        upstream.terminate()
        upstream.wait(timeout=10)
    if done.returncode != 0:
        raise RuntimeError(f"device client benchmark failed:\n{done.stderr[-1500:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    for rows in SIZES:
        both = figures[scenario(rows)]
        ratio = both[DEVICE] / both[PEER]
        bench.rows.append(Row(scenario(rows), DEVICE, both[DEVICE], note=f"×{ratio:.2f} of peer"))
        bench.rows.append(Row(scenario(rows), PEER, both[PEER]))
    for label, per_second in figures[WRITE].items():
        bench.rows.append(Row(f"{WRITE}, 100,000 rows (rows/s)", label, per_second))
    parts = figures["breakdown"]
    split = ", ".join(f"{k} {v:.3f}" for k, v in parts.items())
    whole = parts["fetch, engine and transforms (s)"] + parts["SQLite write (s)"]
    bench.rows.append(
        Row("one 100,000-row local call, timed apart (calls/s)", DEVICE, 1 / whole, note=split)
    )


if __name__ == "__main__":
    main()
