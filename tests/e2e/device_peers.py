"""Peers of the device-client tests: a real `authgate serve` with a solution published, and a
paged REST upstream on 127.0.0.1 that wants a bearer token (and echoes it, as a careless
debugging endpoint would)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.e2e.servers import Server, base_env, cli

TOKEN = "canary-device-upstream-token-7d21c9"
PRIVATE = "canary-device-private-token-0b55e3"
PAGES = 3
PER_PAGE = 4
EMAIL = "owner@acme.test"


class Items(BaseHTTPRequestHandler):
    """``GET /items?page=N``: PER_PAGE items a page, PAGES pages, a ``next`` link until the last."""

    def do_GET(self) -> None:
        server: Upstream = self.server  # type: ignore[assignment]
        server.requests += 1
        authorization = self.headers.get("authorization") or ""
        if authorization not in (f"Bearer {TOKEN}", f"Bearer {PRIVATE}"):
            self._send(401, {"error": "unauthorized"})
            return
        query = parse_qs(urlsplit(self.path).query)
        page = int(query.get("page", ["1"])[0])
        rows = [
            {"id": f"{page}-{n}", "name": f"item {page}-{n}", "page": page, "seen": authorization}
            for n in range(PER_PAGE)
        ]
        body: dict[str, Any] = {"value": rows}
        if page < PAGES:
            body["next"] = f"http://127.0.0.1:{server.server_address[1]}/items?page={page + 1}"
        self._send(200, body)

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


class Upstream(ThreadingHTTPServer):
    """The paged upstream; counts the requests it served."""

    requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def upstream() -> Iterator[Upstream]:
    server = Upstream(("127.0.0.1", 0), Items)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def function(
    port: int, *, local: bool, credential: str = "stock.token", merge: bool = False
) -> str:
    """A paged list function, run on the device or in the cloud."""
    return (
        "provider: DATA_PROVIDER_REST\n"
        "method: GET\n"
        f"url: http://127.0.0.1:{port}/items\n"
        f"useLocalCall: {'true' if local else 'false'}\n"
        f"forRowsWithMatchingIds: {'true' if merge else 'false'}\n"
        "parameters:\n"
        "  page: {location: query, type: number, required: false, value: 1}\n"
        f"  accessToken: {{location: header, type: string, required: true, value: {credential}}}\n"
        "records: =$.value\n"
        "continuation:\n"
        "  when: =$.next\n"
        "  url: =$.next\n"
        "  parameters:\n"
        f"    accessToken: {{location: header, type: string, required: true, value: {credential}}}"
        "\n"
    )


@dataclass
class Deployment:
    """A running authgate with the ``stock`` solution, and the owner's password."""

    server: Server
    upstream: Upstream
    env: dict[str, str]
    password: str
    admin: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.url + path, headers=self.admin, timeout=30, **kwargs)

    def publish(self, name: str, functions: dict[str, str], folder: Path) -> None:
        files = {"solution.yaml": f"name: {name}\n"}
        files.update({f"functions/{key}.yaml": text for key, text in functions.items()})
        answer = self.api("PUT", f"/v1/orgs/acme/solutions/{name}", json={"files": files})
        assert answer.status_code == 200, answer.text


@contextmanager
def deployment(tmp: Path) -> Iterator[Deployment]:
    env = base_env(tmp / "data", egress_allowed_hosts="127.0.0.1")
    made = cli(env, "admin", "bootstrap", "--email", EMAIL, "--org", "acme", "--generate-password")
    assert made.returncode == 0, made.stderr
    found = re.search(r"Generated password \(shown once\): (\S+)", made.stdout)
    assert found
    with upstream() as items:
        server = Server(env, tmp / "serve.log").start()
        try:
            ready = Deployment(server, items, env, found.group(1))
            login = httpx.post(
                server.url + "/v1/auth/login", json={"email": EMAIL, "password": ready.password}
            )
            ready.admin = {"authorization": f"Bearer {login.json()['access_token']}"}
            for name, value, device in (
                ("stock.token", TOKEN, True),
                ("stock.private", PRIVATE, False),
            ):
                stored = ready.api(
                    "PUT",
                    f"/v1/orgs/acme/credentials/{name}",
                    json={
                        "kind": "bearer_token",
                        "value": value,
                        "allowedHosts": ["127.0.0.1"],
                        "deviceUsable": device,
                    },
                )
                assert stored.status_code in (200, 201), stored.text
            port = items.server_address[1]
            ready.publish(
                "stock",
                {
                    "list-items": function(port, local=False),
                    "list-items-local": function(port, local=True),
                    "list-private": function(port, local=True, credential="stock.private"),
                },
                tmp,
            )
            yield ready
        finally:
            server.stop()
