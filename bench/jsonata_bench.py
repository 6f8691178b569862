"""The JSONata stage: both sides on the same data files, one process per side and size, on
core 0, one after the other; their results compared; the Python side profiled once.

See bench/README.md ("JSONata").
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import report
from jsonata_cases import PROFILED, SIZES, difference, transforms, write_documents
from servers import BENCH, ROOT, pinned

if TYPE_CHECKING:
    from harness import Bench

PROFILE_SECONDS = 5.0
_GRACE = 300  # seconds on top of the expected run time before a side counts as hung


def _run_side(bench: Bench, side: str, command: list[str | Path], count: int) -> dict[str, Any]:
    """Run one side's process on core 0; its last line of output is a JSON object."""
    args = bench.args
    timeout = count * (args.jsonata_warmup + args.jsonata_seconds) + _GRACE
    done = subprocess.run(
        pinned(*command), capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"the {side} side failed ({done.returncode}):\n{done.stderr[-1500:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _compare(python: Path, javascript: Path, name: str) -> str | None:
    """How the two sides' results of ``name`` differ, if they do."""
    if not python.exists() or not javascript.exists():
        return "results not compared (a side wrote none)"
    ours = json.loads(python.read_text())
    theirs = json.loads(javascript.read_text())
    if name not in ours or name not in theirs:
        return None  # the side that has no result says why in its own note
    found = difference(ours[name], theirs[name])
    return f"results differ at {found}" if found else None


def measure(bench: Bench) -> report.Jsonata:
    """Every transform on every size, on both sides; rows into ``bench.jsonata``."""
    args, work = bench.args, bench.work / "jsonata"
    files = write_documents(work)
    names = list(transforms())
    table = bench.jsonata
    timing = ("--seconds", str(args.jsonata_seconds), "--warmup", str(args.jsonata_warmup))
    for rows in SIZES:
        bench.say(
            f"JSONata on {rows:,} rows: {len(names)} transforms, {args.jsonata_warmup:g} s "
            f"warm-up and {args.jsonata_seconds:g} s each, Python then JavaScript"
        )
        data = files[rows]
        py_out, js_out = work / f"python-{rows}.json", work / f"javascript-{rows}.json"
        python: dict[str, Any] = {}
        javascript: dict[str, Any] = {}
        try:
            command = [sys.executable, BENCH / "jsonata_py.py", "measure", data, *timing]
            python = _run_side(bench, "Python", [*command, "--results", py_out], len(names))
            table.python_engine = python["engine"]
        except (RuntimeError, subprocess.SubprocessError, ValueError) as exc:
            bench.problems.append(f"JSONata on {rows:,} rows: {exc}"[:800])
        try:
            command = ["node", BENCH / "jsonata_js.mjs", data]
            command += [str(args.jsonata_seconds), str(args.jsonata_warmup), js_out]
            javascript = _run_side(bench, "JavaScript", command, len(names))
            table.javascript_engine = javascript["engine"]
        except (RuntimeError, subprocess.SubprocessError, ValueError) as exc:
            bench.problems.append(f"JSONata on {rows:,} rows: {exc}"[:800])
        for name in names:
            notes = [python.get("notes", {}).get(name, "")]
            notes.append(_compare(py_out, js_out, name) or "")
            note = "; ".join(n for n in notes if n)
            row = report.JsonataRow(
                name,
                rows,
                python.get("per_second", {}).get(name),
                javascript.get("per_second", {}).get(name),
                note,
            )
            if "differ" in note or "not measured" in note:
                bench.problems.append(f"JSONata {name!r} on {rows:,} rows: {note}")
            table.rows.append(row)
    _profile(bench, files[PROFILED[1]])
    return table


def _profile(bench: Bench, data: Path) -> None:
    transform, rows = PROFILED
    out = bench.logs / "jsonata-profile.txt"
    bench.say(f"JSONata: profiling {transform!r} on {rows:,} rows (cProfile, Python side)")
    command = [sys.executable, BENCH / "jsonata_py.py", "profile", data]
    command += ["--transform", transform, "--seconds", str(PROFILE_SECONDS), "--out", out]
    done = subprocess.run(
        pinned(*command), capture_output=True, text=True, timeout=PROFILE_SECONDS + _GRACE
    )
    if done.returncode != 0:
        bench.problems.append(f"JSONata profile failed:\n{done.stderr[-800:]}")
