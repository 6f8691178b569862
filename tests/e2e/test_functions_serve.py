"""A solution published with the CLI and called through a real `authgate serve` (uvloop,
httptools) against a real upstream on 127.0.0.1, as an operator and a device would."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import Server, base_env, cli

pytestmark = pytest.mark.e2e
TOKEN = "canary-e2e-upstream-token-40b7"


class _Items(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.seen.append(self.headers.get("authorization"))  # type: ignore[attr-defined]
        body = json.dumps({"value": [{"id": n, "name": f"item {n}"} for n in range(3)]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@contextmanager
def upstream() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Items)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def write_solution(folder: Path, port: int) -> None:
    (folder / "functions").mkdir(parents=True)
    (folder / "solution.yaml").write_text("name: stock\ntitle: Stock\n")
    (folder / "functions" / "list-items.jigx").write_text(
        "provider: DATA_PROVIDER_REST\n"
        "method: GET\n"
        f"url: http://127.0.0.1:{port}/items\n"
        "parameters:\n"
        "  accessToken:\n"
        "    location: header\n"
        "    type: string\n"
        "    required: true\n"
        "    value: stock.token\n"
        "outputTransform: $\n"
        "records: =$.value\n"
    )


def test_publish_with_the_cli_then_call_from_a_device(tmp_path: Path) -> None:
    env = base_env(tmp_path / "data", egress_allowed_hosts="127.0.0.1")
    result = cli(env, "admin", "bootstrap", "--email", "owner@acme.test", "--org", "acme",
                 "--generate-password")  # fmt: skip
    assert result.returncode == 0, result.stderr
    found = re.search(r"Generated password \(shown once\): (\S+)", result.stdout)
    assert found
    password = found.group(1)

    with upstream() as items:
        folder = tmp_path / "stock"
        write_solution(folder, items.server_address[1])
        server = Server(env, tmp_path / "serve.log").start()
        try:
            with httpx.Client(base_url=server.url) as client:
                login = client.post(
                    "/v1/auth/login", json={"email": "owner@acme.test", "password": password}
                )
                headers = {"authorization": f"Bearer {login.json()['access_token']}"}
                stored = client.put(
                    "/v1/orgs/acme/credentials/stock.token",
                    headers=headers,
                    json={"kind": "bearer_token", "value": TOKEN, "allowedHosts": ["127.0.0.1"]},
                )
                assert stored.status_code in (200, 201), stored.text

                published = cli(env, "solution", "publish", str(folder), "--org", "acme")
                assert published.returncode == 0, published.stderr
                assert "version 1" in published.stdout
                granted = cli(env, "solution", "grant", "stock", "--org", "acme",
                              "--email", "owner@acme.test")  # fmt: skip
                assert granted.returncode == 0, granted.stderr

                definition = client.get("/v1/solutions/stock/definition", headers=headers)
                assert definition.status_code == 200, definition.text
                assert "list-items" in definition.json()["definition"]["functions"]
                called = client.post(
                    "/v1/solutions/stock/functions/list-items:call",
                    headers=headers,
                    json={"parameters": {}},
                )
                assert called.status_code == 200, called.text
                body = called.json()
                assert [r["id"] for r in body["records"]] == [0, 1, 2]
                assert body["pages"] == 1
                again = client.post(
                    "/v1/solutions/stock/functions/list-items:call", headers=headers, json={}
                )
                assert again.status_code == 200
        finally:
            server.stop()
        assert items.seen == [f"Bearer {TOKEN}"] * 2  # type: ignore[attr-defined]
    assert TOKEN not in server.log()
    assert "Traceback" not in server.log()
