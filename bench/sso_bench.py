"""The SSO stage: the authgate side of a brokered login (callback with a code → tokens), per core.

authgate serves on core 0. On core 1 run the load generator and an IdP stand-in: metadata,
JWK set and a token endpoint that answers each authorization code with an RS256 ID token
signed before the run (an IdP's own signing is not what is measured). Before the run the
harness starts every login (``GET /v1/sso/start``) and signs the ID token for its nonce;
each measured login is then what authgate does when the browser comes back:

1. ``GET /v1/sso/callback?code&state&iss``: take the login, exchange the code at the IdP's
   token endpoint (through the egress client), validate the ID token (RS256, cached JWKS),
   find the person (a returning user of a provisioning organization), store a one-time code,
   redirect to the app;
2. ``POST /v1/sso/token``: spend the code with the PKCE verifier, check the person again,
   start a session (refresh token, access token).

Reported: logins/s with 16 connections, the same with 1 connection (the latency split
between the two requests and the IdP's round trip), the IdP stand-in alone, and ID-token
validation alone in a loop on core 0.

    sso_bench.py idp --port P --jwk FILE             the IdP stand-in (core 1)
    sso_bench.py load --plan FILE --seconds S …      the load generator (core 1), prints JSON
    sso_bench.py validate --jwk FILE --seconds S …   ID-token validation/s (core 0), prints JSON
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

if TYPE_CHECKING:
    from harness import Bench

DOMAIN = "bench.authgate.test"
CLIENT_ID, CLIENT_SECRET = "authgate-bench", "bench-idp-client-secret-0123456789"
PEOPLE = 50
CONNECTIONS = 16
APP_REDIRECT = "http://127.0.0.1/callback"
LOGINS = "SSO brokered logins (callback + code redemption)"
LOGINS_ONE = "SSO brokered login, 1 connection"
IDP_ALONE = "IdP stand-in token endpoint, direct (core 1)"
VALIDATE = "ID-token validation (RS256, in-process)"


# --- the IdP stand-in -------------------------------------------------------------------


class IdpStandIn:
    """Metadata, JWKS and a token endpoint answering registered codes, over keep-alive HTTP/1.1."""

    def __init__(self, base: str, public_jwk: dict[str, Any]) -> None:
        self.base = base
        self.jwks = json.dumps({"keys": [public_jwk]}).encode()
        self.metadata = json.dumps(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "jwks_uri": f"{base}/jwks",
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
            }
        ).encode()
        self.codes: dict[str, str] = {}

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if path == "/.well-known/openid-configuration":
            return 200, self.metadata
        if path == "/jwks":
            return 200, self.jwks
        if method == "POST" and path == "/_codes":
            for line in body.decode().splitlines():
                code, _, token = line.partition("\t")
                self.codes[code] = token
            return 200, b"{}"
        if method == "POST" and path == "/token":
            code = parse_qs(body.decode()).get("code", [""])[0]
            token = self.codes.pop(code, None)
            if token is None:
                return 400, b'{"error":"invalid_grant"}'
            answer = {"access_token": "at", "token_type": "Bearer", "expires_in": 300}
            return 200, json.dumps(answer | {"id_token": token}).encode()
        return 404, b'{"error":"not_found"}'

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                status, payload = self.answer(method, urlsplit(target).path, body)
                writer.write(
                    f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
                    f"content-length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def serve_idp(port: int, jwk: dict[str, Any]) -> None:
    from joserfc.jwk import RSAKey

    key = RSAKey.import_key(jwk)
    stand_in = IdpStandIn(f"http://127.0.0.1:{port}", key.as_dict(private=False) | {"kid": "k1"})
    server = await asyncio.start_server(stand_in.handle, "127.0.0.1", port, backlog=1024)
    print("listening", flush=True)
    async with server:
        await server.serve_forever()


# --- a small keep-alive HTTP/1.1 client for the load generator --------------------------


class Connection:
    """One keep-alive connection; requests are sent one at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, target: str, body: bytes = b"", content_type: str = ""
    ) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        extra = f"content-type: {content_type}\r\n" if content_type else ""
        self.writer.write(
            f"{method} {target} HTTP/1.1\r\nhost: {self.host}:{self.port}\r\n{extra}"
            f"content-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        payload = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return status, headers, payload


@dataclass
class Login:
    """One prepared login: authgate's callback query and the app's PKCE verifier."""

    callback: str
    verifier: str


async def run_load(
    base: str, plan: list[Login], connections: int, seconds: float, warmup: float, idp: str
) -> dict[str, Any]:
    """Logins per second and latencies (per login, per request), after a warm-up."""
    split = urlsplit(base)
    queue = iter(plan)
    record: dict[str, list[float]] = {"login": [], "callback": [], "redeem": []}
    failures = 0
    samples: list[str] = []
    stop_at = 0.0
    measuring = False

    async def worker() -> None:
        nonlocal failures
        conn = Connection(split.hostname or "127.0.0.1", split.port or 80)
        while time.perf_counter() < stop_at:
            login = next(queue, None)
            if login is None:
                return
            began = time.perf_counter()
            status, headers, _ = await conn.request("GET", login.callback)
            middle = time.perf_counter()
            code = parse_qs(urlsplit(headers.get("location", "")).query).get("code", [""])[0]
            form = urlencode(
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": APP_REDIRECT,
                    "client_id": "authgate-device",
                    "code_verifier": login.verifier,
                }
            ).encode()
            answer = await conn.request(
                "POST", "/v1/sso/token", form, "application/x-www-form-urlencoded"
            )
            ended = time.perf_counter()
            if status != 302 or not code or answer[0] != 200:
                failures += 1
                if len(samples) < 3:
                    where = headers.get("location", "")[:300] if not code else answer[2][:300]
                    samples.append(f"{status}/{answer[0]}: {where!r}")
                continue
            if measuring:
                record["login"].append(ended - began)
                record["callback"].append(middle - began)
                record["redeem"].append(ended - middle)

    stop_at = time.perf_counter() + warmup
    await asyncio.gather(*(worker() for _ in range(connections)))
    measuring = True
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    idp_split = urlsplit(idp)
    direct = Connection(idp_split.hostname or "127.0.0.1", idp_split.port or 80)
    round_trips = []
    for _ in range(200):
        began = time.perf_counter()
        await direct.request("GET", "/jwks")
        round_trips.append(time.perf_counter() - began)
    return {
        "per_second": len(record["login"]) / elapsed,
        "logins": len(record["login"]),
        "failures": failures,
        "failure_samples": samples,
        "ran_out": next(queue, None) is None,
        "idp_round_trip_ms": _percentile(round_trips, 50),
        **{f"{name}_p50_ms": _percentile(values, 50) for name, values in record.items()},
        **{f"{name}_p99_ms": _percentile(values, 99) for name, values in record.items()},
    }


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


# --- preparing logins (before the run; not measured) -------------------------------------


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


async def prepare(server: str, idp: str, idp_id: str, key: Any, count: int) -> list[Login]:
    """Start ``count`` logins and register an ID token for each one's nonce at the IdP."""
    import httpx
    from joserfc import jws

    logins: list[Login] = []
    lines: list[str] = []
    semaphore = asyncio.Semaphore(16)

    async def one(n: int, client: httpx.AsyncClient) -> None:
        verifier, challenge = _pkce()
        query = {
            "idp": idp_id, "client_id": "authgate-device", "redirect_uri": APP_REDIRECT,
            "code_challenge": challenge, "code_challenge_method": "S256",
        }  # fmt: skip
        async with semaphore:
            started = await client.get(f"{server}/v1/sso/start?{urlencode(query)}")
        if started.status_code != 302:
            raise RuntimeError(f"/v1/sso/start answered {started.status_code}: {started.text}")
        sent = parse_qs(urlsplit(started.headers["location"]).query)
        now = int(time.time())
        person = f"person-{n % PEOPLE}"
        claims = {
            "iss": idp, "sub": person, "aud": CLIENT_ID, "iat": now, "exp": now + 900,
            "nonce": sent["nonce"][0], "email": f"{person}@{DOMAIN}", "email_verified": True,
        }  # fmt: skip
        token = jws.serialize_compact({"alg": "RS256", "kid": "k1"}, json.dumps(claims), key)
        code = secrets.token_urlsafe(24)
        lines.append(f"{code}\t{token}")
        callback = urlencode({"code": code, "state": sent["state"][0], "iss": idp})
        logins.append(Login(f"/v1/sso/callback?{callback}", verifier))

    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(one(n, client) for n in range(count)))
        registered = await client.post(f"{idp}/_codes", content="\n".join(lines))
        registered.raise_for_status()
    return logins


# --- the stage ---------------------------------------------------------------------------


def _configure(bench: Bench, server: Any, env: dict[str, str], idp: str) -> str:
    """Verify the domain (operator), store the IdP and auto provisioning (admin API)."""
    import httpx
    from servers import _authgate_command

    _authgate_command(env, "admin", "org-domains", "bench", "--add", DOMAIN)
    headers = {"Authorization": f"Bearer {server.sign_in()['access_token']}"}
    body = {
        "type": "oidc", "issuer": idp, "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
        "domains": [DOMAIN],
    }  # fmt: skip
    created = httpx.put(f"{server.url}/v1/orgs/bench/sso/idps/bench", json=body, headers=headers)
    if created.status_code != 201:
        raise RuntimeError(f"storing the IdP answered {created.status_code}: {created.text}")
    settings = httpx.patch(
        f"{server.url}/v1/orgs/bench/sso", json={"provisioning": "auto"}, headers=headers
    )
    settings.raise_for_status()
    return str(created.json()["id"])


def _run_pinned(bench: Bench, core: str, *args: str, timeout: float) -> dict[str, Any]:
    from servers import ROOT, pinned

    done = subprocess.run(
        pinned(sys.executable, Path(__file__), *args, core=core),
        capture_output=True, text=True, timeout=timeout, cwd=ROOT,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"sso_bench {args[0]} failed:\n{done.stderr[-1500:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def backend(bench: Bench, db: Any, key: Any, jwk_file: Path) -> None:
    """One backend: serve, configure, prepare, measure with 16 connections and with 1."""
    import report
    from loadgen import LOADGEN_CORE
    from servers import authgate_env, free_port, pinned, start_authgate, wait_ready

    port = free_port()
    idp = f"http://127.0.0.1:{port}"
    log = bench.logs / "sso-idp.log"
    command = pinned(sys.executable, Path(__file__), "idp", "--port", str(port),
                     "--jwk", str(jwk_file), core=LOADGEN_CORE)  # fmt: skip
    stand_in = bench.procs.start(command, dict(os.environ), log)
    wait_ready(f"{idp}/jwks", stand_in, log)
    extra = {"AUTHGATE_EGRESS_ALLOWED_HOSTS": "127.0.0.1"}
    server = start_authgate(db, bench.procs, bench.logs, extra_env=extra, name=f"sso-{db.backend}")
    env = authgate_env(db, int(server.url.rsplit(":", 1)[1])) | extra
    idp_id = _configure(bench, server, env, idp)
    seconds, warmup = bench.args.duration, bench.args.warmup
    timeout = 4 * (seconds + warmup) + 300
    for connections, scenario in ((CONNECTIONS, LOGINS), (1, LOGINS_ONE)):
        count = int((seconds + warmup) * (1000 if connections > 1 else 600)) + PEOPLE
        bench.say(f"SSO on {db.backend}: preparing {count:,} logins ({connections} connections)")
        plan = asyncio.run(prepare(server.url, idp, idp_id, key, count))
        plan_file = bench.work / "sso-plan.json"
        plan_file.write_text(json.dumps([[p.callback, p.verifier] for p in plan]))
        bench.say(f"{scenario} on {db.backend}: {warmup:g} s warm-up, {seconds:g} s")
        result = _run_pinned(
            bench, LOADGEN_CORE, "load", "--url", server.url, "--idp", idp,
            "--plan", str(plan_file), "--connections", str(connections),
            "--seconds", str(seconds), "--warmup", str(warmup), timeout=timeout,
        )  # fmt: skip
        row = report.Row(scenario, db.backend, result["per_second"],
                         result["login_p50_ms"], result["login_p99_ms"])  # fmt: skip
        row.non_2xx = result["failures"]
        row.note = (
            f"callback p50 {result['callback_p50_ms']:.2f} ms (IdP round trip "
            f"{result['idp_round_trip_ms']:.2f} ms), redemption p50 "
            f"{result['redeem_p50_ms']:.2f} ms"
        )
        bench.rows.append(row)
        if result["failures"]:
            bench.problems.append(
                f"{scenario} on {db.backend}: {result['failures']} failed logins, e.g. "
                + "; ".join(result["failure_samples"])
            )
        if result["ran_out"]:
            bench.problems.append(
                f"{scenario} on {db.backend}: the prepared logins ran out before the end; "
                "the rate is over the time they lasted"
            )


def measure(bench: Bench) -> None:
    """The stage, on every backend asked for, and ID-token validation in-process."""
    import report
    from joserfc.jwk import RSAKey
    from servers import Database

    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    jwk_file = bench.work / "sso-idp-key.json"
    jwk_file.write_text(json.dumps(key.as_dict(private=True)))
    for name in bench.args.backend:
        db = (Database.postgres if name == "postgres" else Database.sqlite)(bench.work / "sso")
        try:
            backend(bench, db, key, jwk_file)
        finally:
            bench.procs.stop_all()
            db.drop()
    seconds, warmup = bench.args.duration, bench.args.warmup
    bench.say(f"{VALIDATE}: {warmup:g} s warm-up, {seconds:g} s")
    result = _run_pinned(
        bench, "0", "validate", "--jwk", str(jwk_file), "--seconds", str(seconds),
        "--warmup", str(warmup), timeout=seconds + warmup + 120,
    )  # fmt: skip
    bench.rows.append(report.Row(VALIDATE, "in-process", result["per_second"]))


# --- entry points of the pinned subprocesses ---------------------------------------------


async def validate_rate(jwk: dict[str, Any], seconds: float, warmup: float) -> dict[str, float]:
    """ID tokens validated per second (signature, claims; the key found in a warm cache)."""
    from datetime import UTC, datetime

    from joserfc import jws
    from joserfc.jwk import RSAKey

    from authgate.federation.id_token import Expected, validate
    from authgate.federation.metadata import ProviderMetadata
    from authgate.federation.models import IdpType

    key = RSAKey.import_key(jwk)
    issuer = "https://idp.example"
    metadata = ProviderMetadata(issuer, f"{issuer}/a", f"{issuer}/t", f"{issuer}/k")
    now = int(time.time())
    claims = {"iss": issuer, "sub": "s", "aud": CLIENT_ID, "iat": now, "exp": now + 3600,
              "nonce": "n", "email": f"a@{DOMAIN}", "email_verified": True}  # fmt: skip
    token = jws.serialize_compact({"alg": "RS256", "kid": "k1"}, json.dumps(claims), key)

    async def find_key(_uri: str, _kid: str | None, _alg: str) -> Any:
        return key

    async def loop(duration: float) -> tuple[int, float]:
        count, start = 0, time.perf_counter()
        while time.perf_counter() < start + duration:
            expected = Expected(IdpType.OIDC, metadata, CLIENT_ID, "n", frozenset(),
                                datetime.now(UTC))  # fmt: skip
            await validate(token, expected, find_key)
            count += 1
        return count, time.perf_counter() - start

    await loop(warmup)
    count, elapsed = await loop(seconds)
    return {"operations": count, "seconds": elapsed, "per_second": count / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["idp", "load", "validate"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--jwk", type=Path)
    parser.add_argument("--url")
    parser.add_argument("--idp")
    parser.add_argument("--plan", type=Path)
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3)
    args = parser.parse_args()
    if args.mode == "idp":
        asyncio.run(serve_idp(args.port, json.loads(args.jwk.read_text())))
    elif args.mode == "load":
        plan = [
            Login(callback, verifier) for callback, verifier in json.loads(args.plan.read_text())
        ]
        result = asyncio.run(
            run_load(args.url, plan, args.connections, args.seconds, args.warmup, args.idp)
        )
        print(json.dumps(result))
    else:
        jwk = json.loads(args.jwk.read_text())
        print(json.dumps(asyncio.run(validate_rate(jwk, args.seconds, args.warmup))))


if __name__ == "__main__":
    main()
