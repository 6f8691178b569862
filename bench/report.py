"""The benchmark table (markdown): figures, the ratios that matter, and their targets."""

from __future__ import annotations

import argparse
import math
import platform
import re
import subprocess
import time
from dataclasses import dataclass

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


def _find(rows: list[Row], scenario: str, backend: str) -> Row | None:
    return next((r for r in rows if r.scenario == scenario and r.backend == backend), None)


def ratios(rows: list[Row]) -> list[tuple[str, float, str, bool]]:
    """(what, value, target, met) for every ratio whose two figures were measured."""
    found: list[tuple[str, float, str, bool]] = []
    peer = _find(rows, CLIENT_CREDENTIALS, PEER)
    argon2 = _find(rows, ARGON2, "in-process")
    for backend in ("SQLite", "PostgreSQL"):
        ours = _find(rows, CLIENT_CREDENTIALS, backend)
        if ours and peer and peer.per_second:
            value = ours.per_second / peer.per_second
            what = f"client credentials on {backend} ÷ oidc-provider"
            found.append((what, value, "≥ 1.2", value >= 1.2))
        signin = _find(rows, SIGNIN, backend)
        if signin and argon2 and argon2.per_second:
            value = signin.per_second / argon2.per_second
            what = f"sign-ins on {backend} ÷ bare argon2id"
            found.append((what, value, "≥ 0.8", value >= 0.8))
    refresh = _find(rows, REFRESH, "PostgreSQL")
    if refresh:
        value = refresh.per_second / REFRESH_TARGET
        what = "refresh grants on PostgreSQL ÷ 1,500/s"
        found.append((what, value, "≥ 1.0", value >= 1.0))
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


def render(rows: list[Row], problems: list[str], args: argparse.Namespace, started: float) -> str:
    """The whole report as markdown."""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))
    lines = [
        f"# authgate benchmarks — {when}, commit {_commit()}",
        "",
        f"Server (or in-process loop) on core 0, wrk on core 1; {args.warmup:g} s warm-up, "
        f"{args.duration:g} s measured; wrk with {args.connections} connections "
        f"(sign-ins: {SIGNIN_CONNECTIONS}); Python {platform.python_version()}, "
        f"node {_version('node')}, wrk {_version('wrk')}.",
        "",
        "| scenario | backend | requests/s | p50 | p99 | non-2xx | socket errors | note |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.scenario} | {r.backend} | {_rate(r.per_second)} | {_ms(r.p50_ms)} "
            f"| {_ms(r.p99_ms)} | {_count(r.non_2xx)} | {_count(r.errors)} | {r.note} |"
        )
    lines += ["", "| ratio | value | target | met |", "|---|---:|---|---|"]
    for what, value, target, met in ratios(rows):
        lines.append(f"| {what} | {value:.3f} | {target} | {'yes' if met else 'NO'} |")
    lines += [
        "",
        "Other load on the machine skews the absolute numbers, and PostgreSQL itself is not "
        "pinned to a core; the ratios, measured side by side in this run, are the point.",
    ]
    if problems:
        lines += ["", "**Problems in this run:**", ""] + [f"- {p}" for p in problems]
    return "\n".join(lines) + "\n"
