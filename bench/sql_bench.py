"""SQL functions: a small parameterised SELECT through authgate's SQL engine vs asyncpg itself.

    python bench/sql_bench.py --seconds S --warmup W    (run by the harness on core 0)

Both sides run on one core, in one process, against the same PostgreSQL table, one call at a
time with 8 calls in flight, alternating in halves of the measured time so that a drift of
the machine's speed touches both alike:

* authgate: a SQL function file (``SELECT id, name, city FROM … WHERE id = @Id``) through
  :class:`SqlFunctionEngine` and :class:`SqlProxy` — argument checks, type binding,
  placeholder translation, the pooled connection (transaction and capped cursor), row
  shaping and ``outputTransform``. Not included: HTTP, the token check and the vault lookup
  with its audit row, which every function call shares (the REST figures include them).
* asyncpg: ``pool.fetch`` of the same statement written with ``$1``.

Then rows/s for one call returning 10,000 rows (the default row cap), both sides. Prints one
JSON object. Tables are created in a schema of their own in database ``test`` and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import asyncpg  # noqa: E402
import report  # noqa: E402

from authgate.functions.call import CallContext, CallSolution, CallUser  # noqa: E402
from authgate.functions.loader import load_solution  # noqa: E402
from authgate.functions.model import SqlFunction  # noqa: E402
from authgate.functions.sql_engine import SqlFunctionEngine  # noqa: E402
from authgate.sqlproxy.runner import SqlProxy  # noqa: E402

if TYPE_CHECKING:
    from harness import Bench

SERVER = "postgres@127.0.0.1:5432"
IN_FLIGHT = 8
ROWS = 10_000
AUTHGATE = report.SQL_ENGINE
DIRECT = report.SQL_DIRECT
SMALL = report.SQL_SMALL
LARGE = report.SQL_LARGE
CONTEXT = CallContext(CallUser("u", "u@x", "U"), CallSolution("s", "bench", "o"))


class _Connection:
    credential_id = "bench"
    version = 1

    def __init__(self, url: str) -> None:
        self.url = url


class _Resolver:
    def __init__(self, url: str) -> None:
        self.connection = _Connection(url)

    async def sql_connection(self, name: str) -> _Connection:
        return self.connection


def _function(query: str, parameters: str = "") -> SqlFunction:
    text = (
        "provider: DATA_PROVIDER_SQL\nconnection: bench.db\nmethod: query\n"
        f"query: {query}\n{parameters}"
    )
    found = load_solution({"solution.yaml": "name: bench\n", "functions/f.jigx": text})
    function = found.solution.functions["f"]
    assert isinstance(function, SqlFunction)
    return function


async def _rate(call: Callable[[int], Awaitable[Any]], seconds: float) -> float:
    done = 0
    end = time.perf_counter() + seconds

    async def worker(n: int) -> None:
        nonlocal done
        while time.perf_counter() < end:
            await call(n + done)
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(IN_FLIGHT)))
    return done / (time.perf_counter() - start)


async def rates(seconds: float, warmup: float) -> dict[str, dict[str, float]]:
    schema = f"ag_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(f"postgresql://{SERVER}/test")
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    url = f"postgresql://{SERVER}/test?search_path={schema}"
    proxy = SqlProxy(pool_size=IN_FLIGHT, statement_seconds=30, allowed_hosts=("127.0.0.1",))
    pool = await asyncpg.create_pool(
        f"postgresql://{SERVER}/test", min_size=IN_FLIGHT, max_size=IN_FLIGHT,
        server_settings={"search_path": schema},
    )  # fmt: skip
    try:
        await admin.execute(
            f'CREATE TABLE "{schema}".people (id INT PRIMARY KEY, name TEXT, city TEXT)'
        )
        await admin.execute(
            f"INSERT INTO \"{schema}\".people SELECT n, 'name ' || n, 'city ' || (n % 50) "
            "FROM generate_series(1, $1) AS n",
            ROWS,
        )
        engine = SqlFunctionEngine(proxy, monotonic=time.monotonic)
        resolver = _Resolver(url)
        small = _function(
            "SELECT id, name, city FROM people WHERE id = @Id",
            "parameters:\n  Id: {type: int, location: input, required: true}\n",
        )
        large = _function("SELECT id, name, city FROM people ORDER BY id")

        async def through_authgate(n: int) -> Any:
            args = {"Id": n % ROWS + 1}
            return await engine.call(small, args, context=CONTEXT, connections=resolver)

        async def direct(n: int) -> Any:
            return await pool.fetch("SELECT id, name, city FROM people WHERE id = $1", n % ROWS + 1)

        async def large_authgate(_: int) -> Any:
            result = await engine.call(large, {}, context=CONTEXT, connections=resolver)
            assert len(result.records) == ROWS
            return result

        async def large_direct(_: int) -> Any:
            rows = await pool.fetch("SELECT id, name, city FROM people ORDER BY id")
            return [dict(row) for row in rows]  # records, as a client would hand them on

        figures: dict[str, dict[str, float]] = {SMALL: {}, LARGE: {}}
        for warm in (through_authgate, direct):
            await _rate(warm, warmup / 2)
        half = seconds / 2
        for side, call in ((AUTHGATE, through_authgate), (DIRECT, direct)) * 2:
            figures[SMALL][side] = figures[SMALL].get(side, 0) + await _rate(call, half) / 2
        for side, call in ((AUTHGATE, large_authgate), (DIRECT, large_direct)) * 2:
            figures[LARGE][side] = figures[LARGE].get(side, 0) + await _rate(call, half) * ROWS / 2
        return figures
    finally:
        await pool.close()
        await proxy.aclose()
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


def measure(bench: Bench) -> None:
    """The in-process figures (this module pinned to core 0), then the same SELECT as an HTTP
    function call to ``authgate serve`` on core 0, driven by wrk on core 1."""
    import subprocess

    from servers import pinned

    bench.say(f"SQL functions: {bench.args.warmup:g} s warm-up, {bench.args.duration:g} s per part")
    command = pinned(
        sys.executable, Path(__file__), "--seconds", str(bench.args.duration),
        "--warmup", str(bench.args.warmup),
    )  # fmt: skip
    timeout = 6 * (bench.args.duration + bench.args.warmup) + 120
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"SQL functions benchmark failed:\n{done.stderr[-1500:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    for scenario in (SMALL, LARGE):
        for side in (AUTHGATE, DIRECT):
            bench.rows.append(report.Row(scenario, side, figures[scenario][side]))
    served(bench)


HTTP_SCENARIO = report.SQL_HTTP
HTTP_BACKEND = report.SQL_HTTP_BACKEND


def served(bench: Bench) -> None:
    """``POST …/find:call`` with ``{"parameters": {"Id": 42}}`` through a real server."""
    import httpx
    from loadgen import Load
    from servers import Database as StoreDatabase
    from servers import _psql, start_authgate

    schema = f"ag_bench_http_{secrets.token_hex(4)}"
    _psql(
        f'CREATE SCHEMA "{schema}"; '
        f'CREATE TABLE "{schema}".people (id INT PRIMARY KEY, name TEXT, city TEXT); '
        f"INSERT INTO \"{schema}\".people SELECT n, 'name ' || n, 'city ' || (n % 50) "
        f"FROM generate_series(1, {ROWS}) AS n"
    )
    try:
        bench.say("starting authgate on SQLite (core 0) with a SQL function on PostgreSQL")
        server = start_authgate(
            StoreDatabase.sqlite(bench.work / "sql-http"),
            bench.procs,
            bench.logs,
            extra_env={"AUTHGATE_SQL_ALLOWED_HOSTS": "127.0.0.1"},
            name="sql",
        )
        authorization = f"Bearer {server.sign_in()['access_token']}"
        headers = {"Authorization": authorization}
        stored = httpx.put(
            f"{server.url}/v1/orgs/bench/credentials/bench.db",
            headers=headers,
            json={"kind": "sql_connection",
                  "value": f"postgresql://{SERVER}/postgres?search_path={schema}"},
        )  # fmt: skip
        function = (
            "provider: DATA_PROVIDER_SQL\nconnection: bench.db\nmethod: query\n"
            "query: SELECT id, name, city FROM people WHERE id = @Id\n"
            "parameters:\n  Id: {type: int, location: input, required: true}\n"
        )
        files = {"solution.yaml": "name: bench\n", "functions/find.jigx": function}
        published = httpx.put(
            f"{server.url}/v1/orgs/bench/solutions/bench", headers=headers, json={"files": files}
        )
        url = f"{server.url}/v1/solutions/bench/functions/find:call"
        body = json.dumps({"parameters": {"Id": 42}})
        sample = httpx.post(url, headers={**headers, "Content-Type": "application/json"},
                            content=body, timeout=30)  # fmt: skip
        if sample.status_code != 200 or sample.json()["records"] != [
            {"id": 42, "name": "name 42", "city": "city 42"}
        ]:
            raise RuntimeError(
                f"the SQL function call answered {sample.status_code}: {sample.text[:300]} "
                f"(credential {stored.status_code}, publish {published.status_code})"
            )
        load = Load(
            url,
            bench.args.connections,
            script="post.lua",
            headers=(f"Authorization: {authorization}",),
            env={"BENCH_BODY": body, "BENCH_CONTENT_TYPE": "application/json"},
        )
        bench.wrk(HTTP_SCENARIO, HTTP_BACKEND, load)
    finally:
        _psql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3)
    args = parser.parse_args()
    figures = asyncio.run(rates(args.seconds, args.warmup))
    for scenario, sides in figures.items():
        ratio = sides[AUTHGATE] / sides[DIRECT]
        print(f"{scenario}: authgate {sides[AUTHGATE]:,.0f}, asyncpg {sides[DIRECT]:,.0f}, "
              f"x{ratio:.2f}", file=sys.stderr)  # fmt: skip
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
