"""The whole signed-fetch chain with real processes: a container signs with requests-oauthlib,
a real `authgate serve` verifies and re-signs, the example home server (its own process)
verifies with the home-server kit and provisions the user into its own SQLite."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import httpx
import pytest
import requests
from requests_oauthlib import OAuth1

from tests.e2e.servers import Server, base_env, cli
from tests.unit.homeserver.conftest import APP_KEY
from tests.unit.homeserver.test_example import start as start_example
from tests.unit.homeserver.test_example import stop as stop_example

pytestmark = pytest.mark.e2e
CONTAINER_SECRET = "jive-container-secret-7d1e5f3a"
APP_SECRET = "planner-app-secret-c0ffee-15-long"


def provisioned(db: Path) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT instance_id, user_id, app_id FROM users WHERE provisioned_at IS NOT NULL "
            "ORDER BY claimed_at"
        ).fetchall()
    return [(i, u, a) for i, u, a in rows]


def test_container_to_gateway_to_home_server_provisions_the_user(tmp_path: Path) -> None:
    env = base_env(tmp_path / "data", egress_allowed_hosts="127.0.0.1")
    boot = cli(env, "admin", "bootstrap", "--email", "owner@acme.test", "--org", "acme",
               "--generate-password")  # fmt: skip
    assert boot.returncode == 0, boot.stderr
    password = re.search(r"Generated password \(shown once\): (\S+)", boot.stdout)
    assert password

    (tmp_path / "app-secret").write_text(APP_SECRET)
    (tmp_path / "container-secret").write_text(CONTAINER_SECRET)
    home_dir = tmp_path / "home"
    home_dir.mkdir()
    home = start_example(
        home_dir, "--consumer-secret-file", str(tmp_path / "app-secret"),
    )  # fmt: skip
    server = None
    try:
        container = cli(env, "signed-fetch", "container", "put", "jive", "--org", "acme",
                        "--consumer-key", "jive-prod",
                        "--secret-file", str(tmp_path / "container-secret"))  # fmt: skip
        assert container.returncode == 0, container.stderr
        instance = re.search(r"instance id (\S+?),", container.stdout)
        assert instance, container.stdout
        app = cli(env, "signed-fetch", "app", "put", "planner", "--org", "acme",
                  "--app-url", "https://planner.example.com/app.xml",
                  "--home-server", home.url, "--consumer-key", APP_KEY,
                  "--consumer-secret-file", str(tmp_path / "app-secret"))  # fmt: skip
        assert app.returncode == 0, app.stderr
        assert CONTAINER_SECRET not in container.stdout + container.stderr
        assert APP_SECRET not in app.stdout + app.stderr

        server = Server(env, tmp_path / "serve.log").start()
        signer = OAuth1("jive-prod", client_secret=CONTAINER_SECRET)
        url = f"{server.url}/v1/gateway/planner/api/me"

        first = requests.get(url, params={"opensocial_owner_id": "1001"}, auth=signer, timeout=10)
        assert first.status_code == 200, first.text
        me = first.json()
        assert (me["user_id"], me["instance_id"]) == ("1001", instance.group(1))
        assert me["app_id"] == "planner"
        again = requests.get(url, params={"opensocial_owner_id": "1001"}, auth=signer, timeout=10)
        assert again.status_code == 200, again.text
        posted = requests.post(
            url, params={"opensocial_owner_id": "2002"}, data={"note": "hi"}, auth=signer,
            timeout=10,
        )  # fmt: skip
        assert posted.status_code == 200, posted.text

        replay = requests.Request("GET", url, params={"opensocial_owner_id": "1001"}, auth=signer)
        prepared = replay.prepare()
        with requests.Session() as session:
            assert session.send(prepared, timeout=10).status_code == 200
            replayed = session.send(prepared, timeout=10)
        assert replayed.status_code == 401
        assert replayed.json()["error"]["code"] == "replayed_nonce"

        with httpx.Client(base_url=server.url, timeout=10) as client:
            login = client.post(
                "/v1/auth/login", json={"email": "owner@acme.test", "password": password.group(1)}
            )
            token = login.json()["access_token"]
            owner_id = client.get("/v1/me", headers={"authorization": f"Bearer {token}"}).json()
            fetched = client.get(
                "/v1/apps/planner/fetch/api/me", headers={"authorization": f"Bearer {token}"}
            )
        assert fetched.status_code == 200, fetched.text
        device = fetched.json()
        assert device["user_id"] == owner_id["id"]
        assert device["instance_id"] != instance.group(1)

        assert provisioned(home.db) == [
            (instance.group(1), "1001", "planner"),
            (instance.group(1), "2002", "planner"),
            (device["instance_id"], device["user_id"], "planner"),
        ]
    finally:
        if server is not None:
            server.stop()
        errors = stop_example(home)
    assert CONTAINER_SECRET not in server.log() if server else True
    assert APP_SECRET not in errors
