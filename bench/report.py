"""The benchmark table (markdown): figures, the ratios that matter, and their targets."""

from __future__ import annotations

import argparse
import math
import platform
import re
import subprocess
import time
from dataclasses import dataclass, field

from loadgen import SIGNIN_CONNECTIONS
from servers import ROOT

CLIENT_CREDENTIALS = "client-credentials grants"
REFRESH = "refresh grants (chained)"
SIGNIN = "password sign-ins"
VERIFY = "access-token verifications (AccessTokens.verify)"
ME = "access-token verifications (GET /v1/me)"
ARGON2 = "bare argon2id verify (t=2, 19 MiB, p=1)"
PEER = "oidc-provider (npm)"
REFRESH_TARGET = 1500.0
PASS_DIRECT = "REST GET /items, direct to the upstream"
PASS_NGINX = "REST GET /items through an nginx proxy"
PASS_AUTHGATE = "REST function call through authgate"
ONE_CONNECTION = " (1 connection)"  # suffix of a scenario's latency run
UPSTREAM = "nginx upstream (core 1)"
NGINX = "nginx"
PASS_BACKEND = "SQLite"
PASS_CALLS_TARGET = 2000.0
SQL_SMALL = "SQL SELECT by id, calls/s"
SQL_LARGE = "SQL 10,000-row result, rows/s"
SQL_ENGINE = "authgate SQL function (engine + pool)"
SQL_DIRECT = "asyncpg pool.fetch"
SQL_HTTP = "SQL SELECT by id as a function call (HTTP, token, vault)"
SQL_HTTP_BACKEND = "authgate serve (SQLite store)"
GATEWAY_DIRECT = "home server GET /items, direct"
GATEWAY_FETCH = "device fetch through the gateway (access token)"
GATEWAY_SIGNED = "container signed fetch through the gateway (HMAC-SHA1)"
PASS_ADDED_P50_TARGET_MS = 2.0


@dataclass
class Row:
    """One measured scenario."""

    scenario: str
    backend: str
    per_second: float
    p50_ms: float | None = None
    p99_ms: float | None = None
    non_2xx: int | None = None
    errors: int | None = None
    note: str = ""


def _rate(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _ms(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    return f"{value:.2f} ms" if value < 100 else f"{value:,.0f} ms"


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


@dataclass
class JsonataRow:
    """One transform on one data size, evaluated by both sides."""

    transform: str
    rows: int
    python: float | None
    javascript: float | None
    note: str = ""


@dataclass
class Jsonata:
    """The JSONata comparison: which engines, and a row per transform and size."""

    python_engine: str = "?"
    javascript_engine: str = "?"
    rows: list[JsonataRow] = field(default_factory=list)


def beside(backend: str) -> str:
    """The backend label of a bare-hash rate measured around ``backend``'s sign-ins."""
    return f"in-process, around the sign-ins on {backend}"


def _find(rows: list[Row], scenario: str, backend: str) -> Row | None:
    return next((r for r in rows if r.scenario == scenario and r.backend == backend), None)


Ratio = tuple[str, str, str, bool | None]  # what, value, target, met (None: no target)


def ratios(rows: list[Row]) -> list[Ratio]:
    """(what, value, target, met) for every ratio whose two figures were measured."""
    found: list[Ratio] = []

    def add(what: str, value: float, target: str, met: bool | None) -> None:
        found.append((what, f"{value:.3f}", target, met))

    peer = _find(rows, CLIENT_CREDENTIALS, PEER)
    argon2 = _find(rows, ARGON2, "in-process")
    for backend in ("SQLite", "PostgreSQL"):
        ours = _find(rows, CLIENT_CREDENTIALS, backend)
        if ours and peer and peer.per_second:
            value = ours.per_second / peer.per_second
            add(f"client credentials on {backend} ÷ oidc-provider", value, "≥ 1.2", value >= 1.2)
        signin = _find(rows, SIGNIN, backend)
        bare = _find(rows, ARGON2, beside(backend)) or argon2
        if signin and bare and bare.per_second:
            value = signin.per_second / bare.per_second
            add(f"sign-ins on {backend} ÷ bare argon2id", value, "≥ 0.8", value >= 0.8)
    refresh = _find(rows, REFRESH, "PostgreSQL")
    if refresh:
        value = refresh.per_second / REFRESH_TARGET
        add("refresh grants on PostgreSQL ÷ 1,500/s", value, "≥ 1.0", value >= 1.0)
    return (
        found
        + _passthrough_ratios(rows)
        + _gateway_ratios(rows)
        + _sql_ratios(rows)
        + _signedfetch_ratios(rows)
        + _provider_ratios(rows)
    )


def _provider_ratios(rows: list[Row]) -> list[Ratio]:
    from provider_bench import ratios as provider_ratios  # the stage names its own rows

    return provider_ratios(rows)


def _sql_ratios(rows: list[Row]) -> list[Ratio]:
    """SQL functions against the same query from asyncpg directly, per core."""
    found: list[Ratio] = []
    direct = _find(rows, SQL_SMALL, SQL_DIRECT)
    for what, ours in (
        (
            "SQL SELECT: HTTP function calls/s ÷ asyncpg calls/s",
            _find(rows, SQL_HTTP, SQL_HTTP_BACKEND),
        ),
        ("SQL SELECT: engine calls/s ÷ asyncpg calls/s", _find(rows, SQL_SMALL, SQL_ENGINE)),
    ):
        if ours and direct and direct.per_second:
            found.append((what, f"{ours.per_second / direct.per_second:.3f}", "— (measured)", None))
    large, large_direct = _find(rows, SQL_LARGE, SQL_ENGINE), _find(rows, SQL_LARGE, SQL_DIRECT)
    if large and large_direct and large_direct.per_second:
        value = large.per_second / large_direct.per_second
        found.append(
            ("SQL 10,000 rows: rows/s ÷ asyncpg rows/s", f"{value:.3f}", "— (measured)", None)
        )
    return found


def _gateway_ratios(rows: list[Row]) -> list[Ratio]:
    """Gateway round trips per core, and what they cost over calling the home server."""
    found: list[Ratio] = []
    direct = _find(rows, GATEWAY_DIRECT + ONE_CONNECTION, UPSTREAM)
    for scenario in (GATEWAY_FETCH, GATEWAY_SIGNED):
        ours = _find(rows, scenario, PASS_BACKEND)
        if ours:
            what = f"{scenario}: round trips/s on one core"
            found.append((what, f"{ours.per_second:,.0f}", "— (measured)", None))
        one = _find(rows, scenario + ONE_CONNECTION, PASS_BACKEND)
        if one and direct and one.p50_ms is not None and direct.p50_ms is not None:
            added = one.p50_ms - direct.p50_ms
            if not math.isnan(added):
                what = f"{scenario}: p50 − direct p50, 1 connection"
                found.append((what, f"{added:.2f} ms", "— (measured)", None))
    return found


SIGNEDFETCH_SCENARIO = "signed-fetch verifications, {method}"
SIGNEDFETCH_KIT = "authgate.homeserver (SignedFetchVerifier)"
SIGNEDFETCH_PEER = "oauthlib SignatureOnlyEndpoint"


def _signedfetch_ratios(rows: list[Row]) -> list[Ratio]:
    """The home-server kit's verifications/s ÷ oauthlib's, per signature method (no target)."""
    found: list[Ratio] = []
    for method in ("HMAC-SHA1", "RSA-SHA1"):
        scenario = SIGNEDFETCH_SCENARIO.format(method=method)
        ours, peer = _find(rows, scenario, SIGNEDFETCH_KIT), _find(rows, scenario, SIGNEDFETCH_PEER)
        if ours and peer and peer.per_second:
            value = ours.per_second / peer.per_second
            what = f"{method} verifications/s: home-server kit ÷ oauthlib SignatureOnlyEndpoint"
            found.append((what, f"{value:.3f}", "— (measured side by side)", None))
    return found


def _passthrough_ratios(rows: list[Row]) -> list[Ratio]:
    """authgate's cost as a REST pass-through: added latency, calls/s per core, ÷ nginx."""
    found: list[Ratio] = []
    target = PASS_ADDED_P50_TARGET_MS
    for suffix, load in (("", "32 connections"), (ONE_CONNECTION, "1 connection")):
        ours = _find(rows, PASS_AUTHGATE + suffix, PASS_BACKEND)
        direct = _find(rows, PASS_DIRECT + suffix, UPSTREAM)
        if ours and direct and ours.p50_ms is not None and direct.p50_ms is not None:
            added = ours.p50_ms - direct.p50_ms
            if not math.isnan(added):
                what = f"REST call: authgate p50 − direct p50, {load}"
                found.append((what, f"{added:.2f} ms", f"≤ {target:g} ms", added <= target))
    ours = _find(rows, PASS_AUTHGATE, PASS_BACKEND)
    if ours:
        value = ours.per_second / PASS_CALLS_TARGET
        what = "REST calls/s of authgate on one core ÷ 2,000/s"
        found.append((what, f"{value:.3f}", "≥ 1.0", value >= 1.0))
    nginx = _find(rows, PASS_NGINX, NGINX)
    if ours and nginx and nginx.per_second:
        value = ours.per_second / nginx.per_second
        what = "REST calls/s of authgate ÷ requests/s of the nginx proxy"
        found.append((what, f"{value:.3f}", "— (the floor of a proxy's cost)", None))
    return found


def _version(tool: str) -> str:
    done = subprocess.run([tool, "--version"], capture_output=True, text=True)
    found = re.search(r"\d+\.\d+\.\d+", done.stdout + done.stderr)
    return found.group(0) if found else "?"


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def _jsonata_table(jsonata: Jsonata) -> list[str]:
    lines = [
        "",
        f"JSONata, evaluations/s on core 0, each side in its own process — Python: "
        f"{jsonata.python_engine}; JavaScript: {jsonata.javascript_engine}.",
        "",
        "| transform | rows | Python evaluations/s | JS evaluations/s | Python ÷ JS | note |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in jsonata.rows:
        python = "—" if r.python is None else _rate(r.python)
        javascript = "—" if r.javascript is None else _rate(r.javascript)
        ratio = f"{r.python / r.javascript:.3f}" if r.python and r.javascript else "—"
        lines.append(
            f"| {r.transform} | {r.rows:,} | {python} | {javascript} | {ratio} | {r.note} |"
        )
    return lines


def _met(met: bool | None) -> str:
    return "—" if met is None else "yes" if met else "NO"


def render(
    rows: list[Row],
    problems: list[str],
    args: argparse.Namespace,
    started: float,
    jsonata: Jsonata | None = None,
) -> str:
    """The whole report as markdown."""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))
    lines = [
        f"# authgate benchmarks — {when}, commit {_commit()}",
        "",
        f"Server (or in-process loop) on core 0, wrk on core 1; {args.warmup:g} s warm-up, "
        f"{args.duration:g} s measured; wrk with {args.connections} connections "
        f"(sign-ins: {SIGNIN_CONNECTIONS}); Python {platform.python_version()}, "
        f"node {_version('node')}, wrk {_version('wrk')}.",
    ]
    if rows:
        lines += [
            "",
            "| scenario | backend | requests/s | p50 | p99 | non-2xx | socket errors | note |",
            "|---|---|---:|---:|---:|---:|---:|---|",
        ]
    for r in rows:
        lines.append(
            f"| {r.scenario} | {r.backend} | {_rate(r.per_second)} | {_ms(r.p50_ms)} "
            f"| {_ms(r.p99_ms)} | {_count(r.non_2xx)} | {_count(r.errors)} | {r.note} |"
        )
    found = ratios(rows)
    if found:
        lines += ["", "| ratio | value | target | met |", "|---|---:|---|---|"]
    for what, value, target, met in found:
        lines.append(f"| {what} | {value} | {target} | {_met(met)} |")
    if jsonata and jsonata.rows:
        lines += _jsonata_table(jsonata)
    lines += [
        "",
        "Other load on the machine skews the absolute numbers, and PostgreSQL itself is not "
        "pinned to a core; the ratios, measured side by side in this run, are the point.",
    ]
    if problems:
        lines += ["", "**Problems in this run:**", ""] + [f"- {p}" for p in problems]
    return "\n".join(lines) + "\n"
