"""The load generator: ``wrk --latency`` pinned to core 1, and its output parsed."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

LOADGEN_CORE = "1"
WRK_THREADS = 2  # all on core 1
SIGNIN_CONNECTIONS = 4  # a sign-in holds the core for tens of milliseconds
LUA = Path(__file__).resolve().parent / "lua"
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class Load:
    """One wrk run: where, how hard, with which script."""

    url: str
    connections: int
    threads: int = WRK_THREADS
    script: str | None = None  # a file in bench/lua
    headers: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)  # read by the Lua script


@dataclass
class Measured:
    """What one wrk run reports."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    lua: dict[str, int]
    output: str


def run_wrk(load: Load, seconds: float) -> Measured:
    """Run wrk for ``seconds`` on core 1 and parse its report."""
    threads = min(load.threads, load.connections)
    command = [
        "taskset", "-c", LOADGEN_CORE, "wrk",
        "-t", str(threads), "-c", str(load.connections), "-d", f"{max(1, round(seconds))}s",
        "--timeout", "10s", "--latency",
    ]  # fmt: skip
    if load.script:
        command += ["-s", str(LUA / load.script)]
    for header in load.headers:
        command += ["-H", header]
    command.append(load.url)
    done = subprocess.run(
        command,
        env=dict(os.environ) | load.env,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return parse(done.stdout)


def parse(output: str) -> Measured:
    """The figures of a ``wrk --latency`` report (and ``BENCH name=value`` lines from Lua)."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if not rate or not total:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Measured(
        requests_per_s=float(rate.group(1)),
        p50_ms=_percentile(output, "50"),
        p99_ms=_percentile(output, "99"),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(map(int, errors.groups())) if errors else 0,
        lua={k: int(v) for k, v in re.findall(r"^BENCH (\w+)=(\d+)$", output, re.M)},
        output=output,
    )


def _percentile(output: str, which: str) -> float:
    found = re.search(rf"^\s+{which}%\s+([\d.]+)(us|ms|s|m)\b", output, re.M)
    return float(found.group(1)) * _UNITS_MS[found.group(2)] if found else float("nan")
