"""The REST pass-through stage: the same GET of a Graph-shaped page, direct, through an nginx
proxy, and as an authgate function call; each answer validated before it is measured.

The upstream nginx runs on core 1 next to wrk (the machine has two cores; the server under test
gets core 0 to itself). See bench/README.md ("REST pass-through").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import report
from loadgen import LOADGEN_CORE, Load
from nginx import ITEMS_PATH, graph_items, start_proxy, start_upstream
from servers import ROOT, SERVER_CORE, Authgate, Database, start_authgate

if TYPE_CHECKING:
    from harness import Bench

SOLUTION = "bench"
FUNCTION = "list-items"
CALL_BODY = json.dumps({"parameters": {}})
LOG = "authgate-passthrough.log"  # in the logs folder


def function_file(upstream: str) -> str:
    """The REST function: GET the upstream's page, its ``value`` as the records."""
    return (
        "provider: DATA_PROVIDER_REST\n"
        "method: GET\n"
        f"url: {upstream}{ITEMS_PATH}\n"
        "format: json\n"
        "outputTransform: =$\n"
        "records: =$.value\n"
    )


def _explain(what: str, response: httpx.Response) -> str:
    request = response.request
    return (
        f"{what}: {request.method} {request.url} answered {response.status_code} "
        f"{response.reason_phrase}: {response.text[:400]}"
    )


def _expect(what: str, response: httpx.Response, records: Callable[[Any], Any]) -> None:
    """A 200 whose records are the upstream's 10 items, or a RuntimeError that says why."""
    if response.status_code != 200:
        raise RuntimeError(_explain(what, response))
    try:
        found = records(response.json())
    except (ValueError, KeyError, TypeError):
        raise RuntimeError(_explain(f"{what}, not the expected JSON", response)) from None
    if found != graph_items()["value"]:
        raise RuntimeError(_explain(f"{what}, not the upstream's 10 items", response))


def _server_errors(log: Path) -> str:
    """The error events authgate logged (JSON lines), for a failure's description."""
    events = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("level") in ("error", "critical"):
            cause = " ".join(map(str, entry.get("exc_info", [])[:2]))
            events.append(f"{str(entry.get('event', '')).splitlines()[0]} ({cause})")
    shown = log.relative_to(ROOT) if log.is_relative_to(ROOT) else log
    if not events:
        return f"no error in the server log ({shown})"
    return f"the server logged: {'; '.join(events[:3])} (full log: {shown})"


def measure(bench: Bench) -> None:
    """Direct, nginx proxy, authgate: each with 32 connections, then with 1."""
    work, logs, procs, connections = bench.work, bench.logs, bench.procs, bench.args.connections

    def both(scenario: str, backend: str, load: Load, note: str = "") -> None:
        bench.wrk(scenario, backend, load).note = note
        single = replace(load, connections=1, threads=1)
        one = bench.wrk(scenario + report.ONE_CONNECTION, backend, single)
        one.note = note

    bench.say("starting the nginx upstream (core 1, next to wrk)")
    upstream, _ = start_upstream(procs, work, logs, LOADGEN_CORE)
    _expect("direct", httpx.get(f"{upstream}{ITEMS_PATH}", timeout=10), lambda b: b["value"])
    both(
        report.PASS_DIRECT,
        report.UPSTREAM,
        Load(f"{upstream}{ITEMS_PATH}", connections),
        "upstream and wrk share core 1",
    )

    bench.say("starting the nginx proxy (core 0)")
    proxy, proxy_proc = start_proxy(procs, work, logs, SERVER_CORE, upstream)
    _expect("nginx proxy", httpx.get(f"{proxy}{ITEMS_PATH}", timeout=10), lambda b: b["value"])
    note = "keep-alive to the upstream"
    both(report.PASS_NGINX, report.NGINX, Load(f"{proxy}{ITEMS_PATH}", connections), note)
    procs.stop(proxy_proc)  # core 0 is authgate's alone from here

    bench.say("starting authgate on SQLite (core 0) with the function list-items")
    server = start_authgate(
        Database.sqlite(work / "passthrough"),
        procs,
        logs,
        extra_env={"AUTHGATE_EGRESS_ALLOWED_HOSTS": "127.0.0.1"},
        name=LOG.removeprefix("authgate-").removesuffix(".log"),
    )
    authorization = f"Bearer {server.sign_in()['access_token']}"
    call_url = publish(server, authorization, upstream)
    headers = {"Authorization": authorization, "Content-Type": "application/json"}
    sample = httpx.post(call_url, content=CALL_BODY, headers=headers, timeout=30)
    try:
        _expect("authgate function call", sample, lambda b: b["records"])
    except RuntimeError as exc:
        raise RuntimeError(f"{exc} — {_server_errors(logs / LOG)}") from None
    call = Load(
        call_url,
        connections,
        script="post.lua",
        headers=(f"Authorization: {authorization}",),
        env={"BENCH_BODY": CALL_BODY, "BENCH_CONTENT_TYPE": "application/json"},
    )
    both(report.PASS_AUTHGATE, report.PASS_BACKEND, call, f"POST …/{FUNCTION}:call")


def publish(server: Authgate, authorization: str, upstream: str) -> str:
    """Publish the solution as the bench owner; returns the function's call URL."""
    files = {
        "solution.yaml": f"name: {SOLUTION}\ntitle: Bench\n",
        f"functions/{FUNCTION}.yaml": function_file(upstream),
    }
    published = httpx.put(
        f"{server.url}/v1/orgs/bench/solutions/{SOLUTION}",
        json={"files": files},
        headers={"Authorization": authorization},
        timeout=30,
    )
    if published.status_code != 200:
        raise RuntimeError(_explain("publishing the solution", published))
    return f"{server.url}/v1/solutions/{SOLUTION}/functions/{FUNCTION}:call"
