"""authgate benchmarks: servers on core 0, wrk on core 1, one table of figures and ratios.

Run through ``bench/run`` (which installs wrk and oidc-provider first); see bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import client_bench
import gateway_bench
import httpx
import jsonata_bench
import passthrough
import provider_bench
import report
import signedfetch_verify
import sql_bench
import sso_bench
from loadgen import SIGNIN_CONNECTIONS, WRK_THREADS, Load, run_wrk
from report import Row
from servers import (
    BENCH,
    ROOT,
    Database,
    Processes,
    authgate_env,
    basic,
    pinned,
    start_authgate,
    start_oidc_provider,
    token_format,
)

PARTS = ("tokens", "jsonata", "rest", "gateway", "signedfetch", "sql", "client", "sso", "provider")


class Bench:
    """One run: every scenario, side by side, into :attr:`rows`."""

    def __init__(self, args: argparse.Namespace, work: Path, procs: Processes) -> None:
        self.args = args
        self.work = work
        self.procs = procs
        self.logs = BENCH / "results" / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.rows: list[Row] = []
        self.problems: list[str] = []
        self.jsonata = report.Jsonata()

    def say(self, message: str) -> None:
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    def wrk(
        self, scenario: str, backend: str, load: Load, before: Callable[[], None] | None = None
    ) -> Row:
        """Warm up, then measure, with the same load; ``before`` runs before each of the two."""
        self.say(
            f"{scenario} on {backend}: {self.args.warmup:g} s warm-up, {self.args.duration:g} s"
        )
        for seconds in (self.args.warmup, self.args.duration):
            if before:
                before()
            measured = run_wrk(load, seconds)
        lua = measured.lua
        non_2xx = measured.non_2xx  # the starved requests' 400s included
        row = Row(scenario, backend, measured.requests_per_s, measured.p50_ms, measured.p99_ms)
        row.non_2xx, row.errors = non_2xx, measured.socket_errors
        if "chained" in lua:
            row.note = f"{lua['chained']:,} rotations chained"
            if lua.get("failed") or lua.get("starved"):
                self.problems.append(
                    f"{scenario} on {backend}: the refresh chain broke ({lua.get('failed', 0)} "
                    f"failed answers, {lua.get('starved', 0)} requests without a live token) — "
                    "these refresh figures are INVALID."
                )
        if non_2xx or measured.socket_errors:
            self.problems.append(
                f"{scenario} on {backend}: {non_2xx} non-2xx answers and "
                f"{measured.socket_errors} socket errors (see wrk's output in {self.logs})."
            )
        slug = re.sub(r"[^a-z0-9]+", "-", f"{scenario} {backend}".lower()).strip("-")
        (self.logs / f"wrk-{slug}.txt").write_text(measured.output)
        self.rows.append(row)
        return row

    def inproc(self, what: str, scenario: str, env: dict[str, str], *, record: bool = True) -> Row:
        self.say(f"{scenario}: {self.args.warmup:g} s warm-up, {self.args.duration:g} s")
        command = pinned(
            sys.executable, BENCH / "inproc.py", what,
            "--seconds", str(self.args.duration), "--warmup", str(self.args.warmup),
        )  # fmt: skip
        timeout = self.args.duration + self.args.warmup + 120
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT
        )
        if done.returncode != 0:
            raise RuntimeError(f"{scenario} failed:\n{done.stdout}{done.stderr}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        row = Row(scenario, "in-process", result["per_second"])
        if record:
            self.rows.append(row)
        return row

    def run(self, databases: list[Database]) -> None:
        if "tokens" in self.args.only:
            self.tokens(databases)
        if "jsonata" in self.args.only:
            self.stage("JSONata", lambda: jsonata_bench.measure(self))
        if "rest" in self.args.only:
            self.stage("REST pass-through", lambda: passthrough.measure(self))
        if "gateway" in self.args.only:
            self.stage("apps gateway", lambda: gateway_bench.measure(self))
        if "signedfetch" in self.args.only:
            self.stage("signed-fetch verification", lambda: signedfetch_verify.measure(self))
        if "sql" in self.args.only:
            self.stage("SQL functions", lambda: sql_bench.measure(self))
        if "client" in self.args.only:
            self.stage("device client", lambda: client_bench.measure(self))
        if "sso" in self.args.only:
            self.stage("SSO", lambda: sso_bench.measure(self))
        if "provider" in self.args.only:
            self.stage("OpenID provider", lambda: provider_bench.measure(self))

    def tokens(self, databases: list[Database]) -> None:
        inproc_env = authgate_env(Database.sqlite(self.work / "inproc"), 0)
        self.stage("bare argon2id", lambda: self.inproc("argon2", report.ARGON2, inproc_env))
        self.stage("in-process verify", lambda: self.inproc("verify", report.VERIFY, inproc_env))
        self.stage("oidc-provider", self.peer)
        for backend in self.args.backend:
            db = (Database.postgres if backend == "postgres" else Database.sqlite)(self.work)
            databases.append(db)
            self.stage(db.backend, lambda db=db: self.backend(db))

    def stage(self, name: str, measure: Callable[[], object]) -> None:
        """Run one part; a failure is reported in the table and the next part still runs."""
        try:
            measure()
        except (
            RuntimeError, OSError, subprocess.SubprocessError, httpx.HTTPError, ValueError, KeyError
        ) as exc:  # fmt: skip
            self.problems.append(f"{name}: not measured — {str(exc).strip()[:600]}")
            self.say(f"{name} failed: {exc}")
        finally:
            self.procs.stop_all()

    def peer(self) -> None:
        url, authorization = start_oidc_provider(self.procs, self.logs)
        cc = self._client_credentials(f"{url}/token", authorization)
        note = token_format(cc)
        self.wrk(report.CLIENT_CREDENTIALS, report.PEER, cc).note = note

    def _client_credentials(self, token_url: str, authorization: str) -> Load:
        return Load(
            token_url,
            self.args.connections,
            script="post.lua",
            headers=(f"Authorization: {authorization}",),
            env={
                "BENCH_BODY": "grant_type=client_credentials&scope=api",
                "BENCH_CONTENT_TYPE": "application/x-www-form-urlencoded",
            },
        )

    def backend(self, db: Database) -> None:
        self.say(f"starting authgate on {db.backend} (core 0)")
        server, name = start_authgate(db, self.procs, self.logs), db.backend
        connections = self.args.connections
        cc = self._client_credentials(
            f"{server.url}/oauth/token", basic(server.client_id, server.client_secret)
        )
        note = token_format(cc)
        self.wrk(report.CLIENT_CREDENTIALS, name, cc).note = note

        tokens_file = self.work / "refresh-tokens.txt"

        per_thread = connections // WRK_THREADS + 1  # see bench/lua/refresh.lua

        def fresh_refresh_tokens() -> None:
            count = per_thread * WRK_THREADS
            tokens = [server.sign_in()["refresh_token"] for _ in range(count)]
            tokens_file.write_text("\n".join(tokens) + "\n")

        refresh = Load(
            f"{server.url}/oauth/token",
            connections,
            script="refresh.lua",
            env={
                "BENCH_TOKENS": str(tokens_file),
                "BENCH_PER_THREAD": str(per_thread),
                "BENCH_CLIENT_ID": "authgate-device",
            },
        )
        self.wrk(report.REFRESH, name, refresh, before=fresh_refresh_tokens)

        access = server.sign_in()["access_token"]
        me = Load(f"{server.url}/v1/me", connections, headers=(f"Authorization: Bearer {access}",))
        self.wrk(report.ME, name, me)

        login_body = json.dumps({"email": server.email, "password": server.password})
        login = Load(
            f"{server.url}/v1/auth/login",
            SIGNIN_CONNECTIONS,
            script="post.lua",
            env={"BENCH_BODY": login_body, "BENCH_CONTENT_TYPE": "application/json"},
        )
        # The machine's speed drifts over a run: the bare hash is measured right before and
        # right after the sign-ins, and the ratio uses the mean of the two.
        env = authgate_env(Database.sqlite(self.work / "inproc"), 0)
        before = self.inproc("argon2", report.ARGON2, env, record=False).per_second
        self.wrk(report.SIGNIN, name, login)
        after = self.inproc("argon2", report.ARGON2, env, record=False).per_second
        self.rows.append(Row(report.ARGON2, report.beside(name), (before + after) / 2))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument("--duration", type=float, default=10, help="seconds measured (10)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up (3)")
    parser.add_argument(
        "--quick", action="store_true",
        help="3 s measured, 2 s warm-up (JSONata: 1 s measured, 0.5 s warm-up per case)",
    )  # fmt: skip
    parser.add_argument(
        "--jsonata-seconds", type=float, default=3, help="seconds measured per JSONata case (3)"
    )
    parser.add_argument(
        "--jsonata-warmup", type=float, default=1, help="seconds of warm-up per JSONata case (1)"
    )
    parser.add_argument(
        "--only", action="append", choices=PARTS,
        help="only this part (repeatable; default all): tokens (grants, sign-ins, token "
        "checks), jsonata (Python vs JavaScript), rest (the REST pass-through), gateway (signed "
        "fetch round trips), signedfetch (the home-server kit's verifier vs oauthlib's), sql (SQL "
        "functions vs asyncpg), client (local execution on the device into SQLite), sso "
        "(brokered SSO logins: callback with a code to tokens), provider (authorization-code "
        "exchanges and userinfo vs oidc-provider)",
    )  # fmt: skip
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument(
        "--backend", action="append", choices=["sqlite", "postgres"],
        help="only this database (repeatable; default both)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.quick:
        args.duration, args.warmup = 3, 2
        args.jsonata_seconds, args.jsonata_warmup = 1, 0.5
    args.only = args.only or list(PARTS)
    args.connections += args.connections % WRK_THREADS  # the same share for each wrk thread
    args.backend = args.backend or ["sqlite", "postgres"]
    return args


def check_machine(args: argparse.Namespace) -> None:
    tools = {"taskset", "wrk"}
    packages = set()
    if "tokens" in args.only or "provider" in args.only:
        tools |= {"node", "psql"}
        packages.add("oidc-provider")
    if "jsonata" in args.only:
        tools.add("node")
        packages.add("jsonata")
    if "rest" in args.only or "gateway" in args.only:
        tools.add("nginx")
    search = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin"  # nginx is in sbin
    missing = sorted(tool for tool in tools if not shutil.which(tool, path=search))
    if missing:
        sys.exit(f"missing: {', '.join(missing)} (bench/run installs wrk and nginx)")
    for package in sorted(packages):
        if not (BENCH / "node_modules" / package).is_dir():
            sys.exit(f"missing bench/node_modules/{package} (bench/run installs it)")
    if not {0, 1} <= os.sched_getaffinity(0):
        sys.exit("the benchmarks need CPU cores 0 and 1 (server on 0, load generator on 1)")


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    args = parse_args()
    check_machine(args)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_on_signal)
    procs = Processes()
    work = Path(tempfile.mkdtemp(prefix="authgate-bench-"))
    databases: list[Database] = []
    started = time.time()
    bench = Bench(args, work, procs)
    try:
        bench.run(databases)
    finally:
        procs.stop_all()
        for db in databases:
            try:
                db.drop()
            except (subprocess.SubprocessError, OSError) as exc:
                print(f"[bench] could not drop database {db.name}: {exc}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    text = report.render(bench.rows, bench.problems, args, started, bench.jsonata)
    out = BENCH / "results" / "latest.md"
    out.write_text(text)
    print(text)
    print(f"(saved to {out.relative_to(ROOT)})", file=sys.stderr)


if __name__ == "__main__":
    main()
