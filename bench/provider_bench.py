"""The OpenID provider stage: authorization-code exchanges and userinfo per core, side by side
with npm ``oidc-provider`` configured alike (``--only provider``).

Each server runs alone on core 0 and wrk on core 1 (``lua/provider.lua``). An exchange is
``POST /token`` ``grant_type=authorization_code`` with a PKCE S256 verifier, the client
authenticated with ``client_secret_basic``, for ``openid profile email offline_access``: each
answer carries an access token, an RS256 ID token and a refresh token. A code works once, so
the codes of each run are minted just before it: through authgate's real flow (a person signed
in once on the pages, consent given once, then ``GET /oauth/authorize?…&prompt=none`` with the
session cookie answers each time with a fresh code; run from core 1), and inside the node
process for oidc-provider (``POST /_bench/codes``). Userinfo is ``GET`` with a Bearer access
token, a handful of tokens from exchanges reused round robin.
"""

from __future__ import annotations

import base64
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import report
from loadgen import WRK_THREADS, Load
from provider_authgate import REDIRECT_URI, SCOPE, mint_codes, register, sign_in
from servers import Database, basic, start_authgate, start_oidc_provider

if TYPE_CHECKING:
    from harness import Bench

EXCHANGES = "authorization-code exchanges (PKCE S256, ID token + refresh token)"
USERINFO = "userinfo (GET, Bearer access token)"
USERINFO_TOKENS = 8  # a handful of devices, each sending its own token again and again
WARMUP_RATE = 1500  # codes per second of warm-up (a warm-up that runs out still warms up)
HEADROOM = 3  # the measured run gets this many times what the warm-up spent per second
# (a server runs faster once warm: oidc-provider's exchanges nearly twice as fast)
MAX_CODES = 100_000
CODE_LIFETIME = 60  # seconds, on both sides


@dataclass
class Side:
    """One server under test: where to exchange codes and how to mint them."""

    label: str  # the table's backend column
    token_url: str
    userinfo_url: str
    authorization: str  # client_secret_basic
    mint: Callable[[int], list[str]]  # "code verifier" lines


def _exchange(side: Side, line: str) -> dict[str, str]:
    code, verifier = line.split()
    answer = httpx.post(
        side.token_url,
        data={"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
              "redirect_uri": REDIRECT_URI},
        headers={"Authorization": side.authorization},
        timeout=30,
    )  # fmt: skip
    tokens: dict[str, str] = answer.json() if answer.status_code == 200 else {}
    if not all(tokens.get(k) for k in ("access_token", "id_token", "refresh_token")):
        raise RuntimeError(
            f"{side.label}: the exchange answered {answer.status_code}: {answer.text[:400]}"
        )
    return tokens


def _jose(token: str) -> str:
    """``JWT <alg> (<typ>)`` of a signed token, or ``opaque``."""
    if token.count(".") != 2:
        return "opaque"
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    typ = f" ({header['typ']})" if header.get("typ", "JWT") != "JWT" else ""
    return f"JWT {header.get('alg')}{typ}"


def _outcome(path: Path) -> tuple[dict[str, int], list[str]]:
    """The Lua script's counts (used, starved, failed) and its samples of failed answers."""
    counts, samples = {"used": 0, "starved": 0, "failed": 0}, []
    for line in path.read_text().splitlines() if path.exists() else []:
        name, _, rest = line.partition(" ")
        if name in counts:
            counts[name] = int(rest)
        elif name == "sample":
            samples.append(rest)
    return counts, samples


def measure_side(bench: Bench, side: Side) -> None:
    """Check one exchange and userinfo, then measure both with wrk."""
    work, connections = bench.work, bench.args.connections
    sample = _exchange(side, side.mint(1)[0])
    exchange_note = (
        f"ID token {_jose(sample['id_token'])}; access token {_jose(sample['access_token'])}"
    )
    tokens = [_exchange(side, line)["access_token"] for line in side.mint(USERINFO_TOKENS)]
    checked = httpx.get(side.userinfo_url, headers={"Authorization": f"Bearer {tokens[0]}"})
    if checked.status_code != 200 or "sub" not in checked.json():
        raise RuntimeError(f"{side.label}: userinfo answered {checked.status_code}: {checked.text}")

    codes, outcome = work / "provider-codes.txt", work / "provider-outcome.txt"
    runs: list[int] = []

    def mint() -> None:
        # The warm-up at a generous guess, the measured run after what the warm-up spent.
        if not runs:
            count = math.ceil(bench.args.warmup * WARMUP_RATE)
        else:
            spent = _outcome(outcome)[0]
            rate = (spent["used"] + spent["starved"]) / bench.args.warmup
            count = min(MAX_CODES, math.ceil(rate * bench.args.duration * HEADROOM) + 200)
        started = time.monotonic()
        lines = side.mint(count)
        took = time.monotonic() - started
        bench.say(f"{side.label}: {len(lines):,} codes minted in {took:.1f} s")
        if took > CODE_LIFETIME * 0.8:  # the first code minted is the first one sent
            bench.problems.append(
                f"{EXCHANGES} on {side.label}: minting took {took:.0f} s; codes live "
                f"{CODE_LIFETIME} s, so some may have expired before they were sent"
            )
        codes.write_text("\n".join(lines) + "\n")
        runs.append(len(lines))
        outcome.unlink(missing_ok=True)

    exchanges = Load(
        side.token_url, connections, script="provider.lua",
        headers=(f"Authorization: {side.authorization}",),
        env={"BENCH_MODE": "codes", "BENCH_CODES": str(codes), "BENCH_REDIRECT_URI": REDIRECT_URI,
             "BENCH_REPORT": str(outcome), "BENCH_THREADS": str(WRK_THREADS)},
    )  # fmt: skip
    row = bench.wrk(EXCHANGES, side.label, exchanges, before=mint)
    row.note = f"{exchange_note}; {runs[-1]:,} codes minted"
    _problems(bench, EXCHANGES, side.label, outcome)

    (work / "provider-tokens.txt").write_text("\n".join(tokens) + "\n")
    userinfo = Load(
        side.userinfo_url, connections, script="provider.lua",
        env={"BENCH_MODE": "bearer", "BENCH_TOKENS": str(work / "provider-tokens.txt"),
             "BENCH_REPORT": str(outcome)},
    )  # fmt: skip
    row = bench.wrk(USERINFO, side.label, userinfo, before=lambda: outcome.unlink(missing_ok=True))
    row.note = f"{USERINFO_TOKENS} access tokens, {_jose(tokens[0])}"
    _problems(bench, USERINFO, side.label, outcome)


def _problems(bench: Bench, scenario: str, label: str, outcome: Path) -> None:
    counts, samples = _outcome(outcome)
    if counts["starved"]:
        bench.problems.append(
            f"{scenario} on {label}: the minted codes ran out ({counts['starved']:,} requests "
            "sent a spent code) — these figures are INVALID."
        )
    if samples:
        bench.problems.append(
            f"{scenario} on {label}: {counts['failed']:,} answers were not 200, e.g. "
            + " | ".join(samples)
        )


# --- oidc-provider -----------------------------------------------------------------------


def peer(bench: Bench) -> None:
    """oidc-provider (in memory) on core 0, codes minted in its process."""
    url, _ = start_oidc_provider(bench.procs, bench.logs)
    app = httpx.get(f"{url}/_bench/app", timeout=30).json()
    if app["redirect_uri"] != REDIRECT_URI or app["scope"] != SCOPE:
        raise RuntimeError(f"oidc_provider_server.mjs registers another app: {app}")

    def mint(count: int) -> list[str]:
        minted = httpx.post(f"{url}/_bench/codes", params={"count": count}, timeout=300)
        minted.raise_for_status()
        return minted.text.strip().splitlines()

    side = Side(report.PEER, f"{url}/token", f"{url}/me",
                basic(app["client_id"], app["client_secret"]), mint)  # fmt: skip
    measure_side(bench, side)


# --- authgate ----------------------------------------------------------------------------


def authgate_side(bench: Bench, db: Database) -> None:
    """authgate on ``db`` (core 0): register the app, sign in once, measure."""
    server = start_authgate(db, bench.procs, bench.logs, name=f"provider-{db.backend.lower()}")
    client_id, secret = register(server)
    cookie = sign_in(server, client_id)
    side = Side(
        db.backend, f"{server.url}/oauth/token", f"{server.url}/oauth/userinfo",
        basic(client_id, secret), lambda count: mint_codes(server.url, client_id, cookie, count),
    )  # fmt: skip
    measure_side(bench, side)


def measure(bench: Bench) -> None:
    """oidc-provider, then authgate on every backend asked for."""
    bench.stage("provider: oidc-provider", lambda: peer(bench))
    for name in bench.args.backend:
        db = (Database.postgres if name == "postgres" else Database.sqlite)(bench.work / "provider")

        def one(db: Database = db) -> None:
            try:
                authgate_side(bench, db)
            finally:
                bench.procs.stop_all()
                db.drop()

        bench.stage(f"provider: authgate on {db.backend}", one)


def ratios(rows: list[report.Row]) -> list[report.Ratio]:
    """authgate ÷ oidc-provider for exchanges and userinfo, per backend (no target)."""
    found: list[report.Ratio] = []
    for scenario, what in ((EXCHANGES, "authorization-code exchanges/s"), (USERINFO, "userinfo/s")):
        peer_row = report._find(rows, scenario, report.PEER)
        for backend in ("SQLite", "PostgreSQL"):
            ours = report._find(rows, scenario, backend)
            if ours and peer_row and peer_row.per_second:
                value = ours.per_second / peer_row.per_second
                found.append(
                    (f"{what} on {backend} ÷ oidc-provider", f"{value:.3f}", "— (no target)", None)
                )
    return found
