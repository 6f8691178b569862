"""Servers for the benchmarks: authgate on SQLite or PostgreSQL, and the oidc-provider peer.

Every process is started pinned to core 0 and stopped by :meth:`Processes.stop_all`; every
address is 127.0.0.1 and every port a free one picked at start.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
from loadgen import Load

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
AUTHGATE = ROOT / ".venv" / "bin" / "authgate"
SERVER_CORE = "0"
POSTGRES_ADMIN = ["psql", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-d", "postgres"]
HIGH_LIMIT = "1000000000"  # sign-in throttling must never trip during a benchmark


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(*command: str | Path, core: str = SERVER_CORE) -> list[str]:
    """The command run on one CPU core."""
    return ["taskset", "-c", core, *map(str, command)]


class Processes:
    """The servers this run started; :meth:`stop_all` ends each of them by its pid."""

    def __init__(self) -> None:
        self._running: list[subprocess.Popen[bytes]] = []

    def start(
        self, command: list[str], env: Mapping[str, str], log: Path
    ) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            proc = subprocess.Popen(
                command, env=dict(env), stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
            )
        self._running.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if proc in self._running:
            self._running.remove(proc)

    def stop_all(self) -> None:
        for proc in list(self._running):
            self.stop(proc)


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    """Wait until ``url`` answers 200; fail early if the server exits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(
                f"the server exited ({proc.returncode}) before it was ready:\n{tail}"
            )
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} was not ready after {seconds:.0f} s (log: {log})")


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@dataclass
class Database:
    """Where one authgate deployment keeps its data; :meth:`drop` removes it."""

    backend: str  # "SQLite" or "PostgreSQL"
    data_dir: Path
    url: str | None = None
    name: str | None = None

    @classmethod
    def sqlite(cls, work: Path) -> Database:
        return cls("SQLite", work / "sqlite")

    @classmethod
    def postgres(cls, work: Path) -> Database:
        name = f"authgate_bench_{secrets.token_hex(6)}"
        _psql(f'CREATE DATABASE "{name}"')
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        return cls("PostgreSQL", work / "postgres", url, name)

    def drop(self) -> None:
        if self.name:
            _psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self.name = None


def _psql(sql: str) -> None:
    subprocess.run(
        [*POSTGRES_ADMIN, "-v", "ON_ERROR_STOP=1", "-qc", sql],
        check=True,
        timeout=60,
        capture_output=True,
    )


@dataclass
class Authgate:
    """A running authgate with an owner who signs in and one service client."""

    url: str
    email: str
    password: str
    client_id: str
    client_secret: str

    def sign_in(self) -> dict[str, str]:
        response = httpx.post(
            f"{self.url}/v1/auth/login",
            json={"email": self.email, "password": self.password},
            timeout=30,
        )
        response.raise_for_status()
        tokens: dict[str, str] = response.json()
        return tokens


def authgate_env(db: Database, port: int) -> dict[str, str]:
    """The environment of every authgate command for this deployment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    env |= {
        "AUTHGATE_DATA_DIR": str(db.data_dir),
        "AUTHGATE_SECRET_KEY": _secret_key(db.data_dir),
        "AUTHGATE_PORT": str(port),
        "AUTHGATE_LOG_LEVEL": "warning",
        "AUTHGATE_SIGNIN_ACCOUNT_LIMIT": HIGH_LIMIT,
        "AUTHGATE_SIGNIN_IP_LIMIT": HIGH_LIMIT,
    }
    if db.url:
        env["AUTHGATE_DATABASE_URL"] = db.url
    return env


def _secret_key(data_dir: Path) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    key_file = data_dir / "bench-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
    return key_file.read_text()


def _authgate_command(env: Mapping[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(AUTHGATE), *args], env=dict(env), capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"authgate {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout + done.stderr


def start_authgate(
    db: Database,
    procs: Processes,
    logs: Path,
    extra_env: Mapping[str, str] | None = None,
    name: str | None = None,
) -> Authgate:
    """Migrate, bootstrap an owner, serve on core 0, and create a service client.

    ``extra_env`` adds settings (``AUTHGATE_*``); the log is ``authgate-<name>.log`` (the
    backend's name by default).
    """
    port = free_port()
    env = authgate_env(db, port) | dict(extra_env or {})
    if db.url:
        _authgate_command(env, "migrate")
    email = "owner@bench.authgate.test"
    out = _authgate_command(
        env, "admin", "bootstrap", "--email", email, "--org", "bench", "--generate-password"
    )
    found = re.search(r"Generated password \(shown once\): (\S+)", out)
    if not found:
        raise RuntimeError(f"no generated password in the bootstrap output:\n{out}")
    log = logs / f"authgate-{name or db.backend.lower()}.log"
    proc = procs.start(pinned(AUTHGATE, "serve"), env, log)
    url = f"http://127.0.0.1:{port}"
    wait_ready(f"{url}/readyz", proc, log)
    owner = Authgate(url, email, found.group(1), "", "")
    access = owner.sign_in()["access_token"]
    created = httpx.post(
        f"{url}/v1/orgs/bench/clients",
        json={"name": "bench service", "scopes": "api"},
        headers={"Authorization": f"Bearer {access}"},
        timeout=30,
    )
    created.raise_for_status()
    owner.client_id = created.json()["client_id"]
    owner.client_secret = created.json()["client_secret"]
    return owner


def start_oidc_provider(procs: Processes, logs: Path) -> tuple[str, str]:
    """The npm oidc-provider peer on core 0; returns its URL and Basic authorization."""
    port = free_port()
    client_id, secret = "bench-service", secrets.token_urlsafe(32)
    env = dict(os.environ) | {"PORT": str(port), "CLIENT_ID": client_id, "CLIENT_SECRET": secret}
    log = logs / "oidc-provider.log"
    proc = procs.start(pinned("node", BENCH / "oidc_provider_server.mjs"), env, log)
    url = f"http://127.0.0.1:{port}"
    wait_ready(f"{url}/.well-known/openid-configuration", proc, log)
    return url, basic(client_id, secret)


def token_format(load: Load) -> str:
    """What one client-credentials grant of this load answers with, e.g. ``JWT EdDSA``."""
    headers = dict(h.split(": ", 1) for h in load.headers)
    headers["Content-Type"] = load.env["BENCH_CONTENT_TYPE"]
    answer = httpx.post(load.url, content=load.env["BENCH_BODY"], headers=headers, timeout=30)
    answer.raise_for_status()
    token = answer.json()["access_token"]
    if token.count(".") != 2:
        return "opaque token"
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    return f"JWT {header.get('alg')} ({header.get('typ')})"
