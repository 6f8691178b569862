"""The apps gateway stage: round trips through the gateway to a home server, per core.

authgate (SQLite) serves on core 0; the home server is the nginx upstream of the REST stage,
on core 1 next to wrk. Three scenarios, each checked before it is measured:

* direct: ``GET /items`` from the home server itself (the ceiling of core 1);
* a device: ``GET /v1/apps/{app}/fetch/items`` with an access token (authgate as the
  container: authenticate, re-sign, forward, stream back);
* a container: ``GET /v1/gateway/{app}/items`` signed with HMAC-SHA1 (verify the signature,
  record the nonce, re-sign, forward, stream back). Nonces are single-use, so every request
  is signed before the run (bench/lua/signed.lua sends each once).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx
import report
from loadgen import LOADGEN_CORE, WRK_THREADS, Load
from nginx import ITEMS_PATH, graph_items, start_upstream
from servers import Authgate, Database, start_authgate

from authgate.signedfetch.signature import SharedSecret
from authgate.signedfetch.signing import sign_request

if TYPE_CHECKING:
    from pathlib import Path

    from harness import Bench

APP = "bench-app"
CONSUMER_KEY = "bench-container"
CONTAINER_SECRET = "bench-container-secret-0123456789"
APP_SECRET = "bench-app-secret-0123456789abcdef"
SIGNED_PER_SECOND = 6000  # more than the gateway can serve: no thread runs out
LOG = "authgate-gateway.log"


def _expect(what: str, response: httpx.Response) -> None:
    if response.status_code != 200 or response.json() != graph_items():
        raise RuntimeError(
            f"{what}: {response.request.method} {response.request.url} answered "
            f"{response.status_code}: {response.text[:400]}"
        )


def register(server: Authgate, authorization: str, home: str) -> None:
    """The container and the app, through the registry API."""
    headers = {"Authorization": authorization}
    for path, body in (
        (f"containers/{CONSUMER_KEY}", {"consumerKey": CONSUMER_KEY, "secret": CONTAINER_SECRET}),
        (
            f"apps/{APP}",
            {
                "appUrl": "https://bench.example.com/app.xml",
                "homeServers": [home],
                "consumerKey": "bench-app-key",
                "consumerSecret": APP_SECRET,
            },
        ),
    ):
        done = httpx.put(
            f"{server.url}/v1/orgs/bench/signed-fetch/{path}", json=body, headers=headers
        )
        if done.status_code not in (200, 201):
            raise RuntimeError(f"registering {path}: {done.status_code} {done.text[:400]}")


def signed_lines(server: Authgate, count: int) -> list[str]:
    """``count`` requests signed by the container, as ``path<TAB>Authorization`` lines."""
    path = f"/v1/gateway/{APP}{ITEMS_PATH}?opensocial_owner_id=1001"
    now = datetime.now(UTC)
    secret = SharedSecret(CONTAINER_SECRET)
    lines = []
    for _ in range(count):
        signed = sign_request(
            "GET", server.url + path, consumer_key=CONSUMER_KEY, consumer_secret=secret, now=now
        )
        lines.append(f"{path}\t{signed.authorization}")
    return lines


def measure(bench: Bench) -> None:
    """Direct, device fetch, container signed fetch: 32 connections, then 1."""
    work, logs, procs, connections = bench.work, bench.logs, bench.procs, bench.args.connections
    bench.say("starting the home server (nginx upstream, core 1, next to wrk)")
    home, _ = start_upstream(procs, work, logs, LOADGEN_CORE)
    _expect("direct", httpx.get(f"{home}{ITEMS_PATH}", timeout=10))

    bench.say("starting authgate on SQLite (core 0) with a container and an app")
    server = start_authgate(
        Database.sqlite(work / "gateway"),
        procs,
        logs,
        extra_env={"AUTHGATE_EGRESS_ALLOWED_HOSTS": "127.0.0.1"},
        name=LOG.removeprefix("authgate-").removesuffix(".log"),
    )
    authorization = f"Bearer {server.sign_in()['access_token']}"
    register(server, authorization, home)
    fetch_url = f"{server.url}/v1/apps/{APP}/fetch{ITEMS_PATH}"
    _expect("device fetch", httpx.get(fetch_url, headers={"Authorization": authorization}))
    (sample,) = signed_lines(server, 1)
    path, signature = sample.split("\t")
    _expect("signed fetch", httpx.get(server.url + path, headers={"Authorization": signature}))

    def both(scenario: str, backend: str, load: Load, write: Path | None = None) -> None:
        single = replace(load, connections=1, threads=1)
        for suffix, run in (("", load), (report.ONE_CONNECTION, single)):
            before = None
            if write is not None:
                seconds = bench.args.duration + bench.args.warmup
                per_thread = int(SIGNED_PER_SECOND * seconds / run.threads) + 2
                run = replace(run, env={**run.env, "BENCH_PER_THREAD": str(per_thread)})

                def before(threads: int = run.threads, per: int = per_thread) -> None:
                    write.write_text("\n".join(signed_lines(server, threads * per)) + "\n")

            bench.wrk(scenario + suffix, backend, run, before=before)

    both(report.GATEWAY_DIRECT, report.UPSTREAM, Load(f"{home}{ITEMS_PATH}", connections))
    both(
        report.GATEWAY_FETCH,
        report.PASS_BACKEND,
        Load(fetch_url, connections, headers=(f"Authorization: {authorization}",)),
    )
    requests_file = work / "signed-requests.txt"
    signed = Load(
        f"{server.url}/",
        connections,
        threads=WRK_THREADS,
        script="signed.lua",
        env={"BENCH_REQUESTS": str(requests_file)},
    )
    both(report.GATEWAY_SIGNED, report.PASS_BACKEND, signed, requests_file)
    bench.say(json.dumps({"gateway": "done"}))
