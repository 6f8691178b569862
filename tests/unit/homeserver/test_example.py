"""The example home server, run as its own process: it provisions users into its SQLite."""

from __future__ import annotations

import os
import re
import select
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from requests_oauthlib import OAuth1

from tests.unit.homeserver.conftest import APP_KEY, APP_SECRET, identity_query

ROOT = Path(__file__).resolve().parents[3]
APP = ROOT / "examples" / "homeserver" / "app.py"
START_SECONDS = 30
TIMEOUT = 10


@dataclass
class Example:
    url: str
    db: Path
    process: subprocess.Popen[str]


def start(tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> Example:
    db = tmp_path / "users.db"
    command = [sys.executable, str(APP), "--port", "0", "--consumer-key", APP_KEY]
    process = subprocess.Popen(
        [*command, "--db", str(db), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_SECONDS)
    line = process.stdout.readline() if ready else ""
    found = re.fullmatch(r"homeserver listening on (http://127\.0\.0\.1:\d+)\n", line)
    if found is None:
        process.kill()
        _, errors = process.communicate(timeout=TIMEOUT)
        raise AssertionError(f"the example did not start: {line!r} {errors[-2000:]}")
    return Example(found.group(1), db, process)


def stop(example: Example) -> str:
    example.process.terminate()
    _, errors = example.process.communicate(timeout=TIMEOUT)
    return errors


@pytest.fixture
def example(tmp_path: Path) -> Iterator[Example]:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(APP_SECRET + "\n", encoding="utf-8")
    running = start(tmp_path, "--consumer-secret-file", str(secret_file))
    yield running
    stop(running)


def rows(db: Path) -> list[tuple[str, str, str | None, bool]]:
    with sqlite3.connect(db) as conn:
        found = conn.execute(
            "SELECT instance_id, user_id, app_id, provisioned_at IS NOT NULL FROM users "
            "ORDER BY instance_id, user_id"
        ).fetchall()
    return [(i, u, a, bool(p)) for i, u, a, p in found]


def signed_get(example: Example, owner: str, secret: str = APP_SECRET) -> requests.Response:
    return requests.get(
        f"{example.url}/api/me?{identity_query(owner)}",
        auth=OAuth1(APP_KEY, client_secret=secret),
        timeout=TIMEOUT,
    )


def test_the_example_provisions_each_user_once(example: Example) -> None:
    first = signed_get(example, "alice@acme-prod")
    assert first.status_code == 200, first.text
    answer = first.json()
    assert (answer["user_id"], answer["instance_id"]) == ("alice", "acme-prod")
    assert answer["user"]["owner_id"] == "alice@acme-prod"
    assert rows(example.db) == [("acme-prod", "alice", "crm", True)]
    provisioned_at = answer["user"]["provisioned_at"]
    again = signed_get(example, "alice@acme-prod")
    assert again.json()["user"]["provisioned_at"] == provisioned_at
    assert signed_get(example, "bob@x.example@acme-prod").status_code == 200
    assert signed_get(example, "alice@other-inst").status_code == 200
    assert rows(example.db) == [
        ("acme-prod", "alice", "crm", True),
        ("acme-prod", "bob@x.example", "crm", True),
        ("other-inst", "alice", "crm", True),
    ]


def test_the_example_refuses_what_is_not_a_signed_fetch(example: Example) -> None:
    wrong = signed_get(example, "mallory@acme-prod", secret="guess")
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_signature")
    unsigned = requests.get(f"{example.url}/api/me?{identity_query()}", timeout=TIMEOUT)
    assert (unsigned.status_code, unsigned.json()["error"]) == (400, "invalid_oauth_request")
    assert requests.get(f"{example.url}/healthz", timeout=TIMEOUT).text == "ok"
    assert rows(example.db) == []


def test_users_survive_a_restart_without_being_provisioned_again(tmp_path: Path) -> None:
    env = {**os.environ, "HOMESERVER_CONSUMER_SECRET": APP_SECRET}
    first = start(tmp_path, env=env)
    try:
        assert signed_get(first, "carol@inst").status_code == 200
    finally:
        first_log = stop(first)
    assert "provisioned carol of inst" in first_log
    second = start(tmp_path, env=env)
    try:
        assert signed_get(second, "carol@inst").status_code == 200
    finally:
        second_log = stop(second)
    assert "provisioned" not in second_log
    assert rows(second.db) == [("inst", "carol", "crm", True)]


def test_the_example_needs_a_secret(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HOMESERVER_CONSUMER_SECRET"}
    done = subprocess.run(
        [sys.executable, str(APP), "--port", "0", "--consumer-key", APP_KEY],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "no consumer secret" in done.stderr
