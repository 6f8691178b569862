"""An example home server: verifies the gateway's signed fetches and provisions its users.

    python examples/homeserver/app.py --port 8081 --consumer-key crm-app \\
        --consumer-secret-file secret.txt --db users.db

The consumer key and secret are the app's, as registered at the gateway. The secret is read
from ``--consumer-secret-file`` or the ``HOMESERVER_CONSUMER_SECRET`` environment variable,
never from the command line. Once it listens it prints one line,
``homeserver listening on http://HOST:PORT`` (``--port 0`` picks a free port and prints it).

Every request but ``GET /healthz`` must be a signed fetch. The first request of each
(instance, user) adds a row to the ``users`` table of the SQLite file ``--db``: the kit's
provisioning hook, with that table as its store of known users, so that a user is provisioned
once even across restarts. ``GET|POST /api/me`` answers who the user is and their row.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from authgate.homeserver import AsyncSignedFetchVerifier, SignedFetch
from authgate.homeserver.starlette import SignedFetchMiddleware, current_signed_fetch

SECRET_ENV = "HOMESERVER_CONSUMER_SECRET"
SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    instance_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    owner_id TEXT,
    app_id TEXT,
    claimed_at REAL NOT NULL,
    provisioned_at REAL,
    PRIMARY KEY (instance_id, user_id)
)
"""


class Users:
    """The home server's own user table (stdlib sqlite3), one connection behind a lock."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(SCHEMA)
        self._lock = threading.Lock()

    def claim(self, instance_id: str, user_id: str) -> bool:
        """Insert the pair; True when it was not there (the user is new)."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO users (instance_id, user_id, claimed_at) VALUES (?, ?, ?)",
                (instance_id, user_id, time.time()),
            )
            return cursor.rowcount == 1

    def release(self, instance_id: str, user_id: str) -> None:
        """Remove a pair whose provisioning failed, so the next request tries again."""
        with self._lock:
            self._db.execute(
                "DELETE FROM users WHERE instance_id = ? AND user_id = ? "
                "AND provisioned_at IS NULL",
                (instance_id, user_id),
            )

    def provision(self, fetch: SignedFetch) -> None:
        """Fill in the new user's record."""
        with self._lock:
            self._db.execute(
                "UPDATE users SET owner_id = ?, app_id = ?, provisioned_at = ? "
                "WHERE instance_id = ? AND user_id = ?",
                (fetch.owner_id, fetch.app_id, time.time(), fetch.instance_id, fetch.user_id),
            )

    def find(self, instance_id: str, user_id: str) -> dict[str, Any] | None:
        """The user's row, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM users WHERE instance_id = ? AND user_id = ?",
                (instance_id, user_id),
            ).fetchone()
        return None if row is None else dict(row)


class KnownUsersTable:
    """The kit's store of known users, kept in the users table (off the event loop)."""

    def __init__(self, users: Users) -> None:
        self._users = users

    async def add(self, instance_id: str, user_id: str) -> bool:
        return await asyncio.to_thread(self._users.claim, instance_id, user_id)

    async def discard(self, instance_id: str, user_id: str) -> None:
        await asyncio.to_thread(self._users.release, instance_id, user_id)


def build_app(
    consumer_key: str, consumer_secret: str, users: Users, public_origin: str | None
) -> Starlette:
    """The Starlette application, every route but /healthz behind the kit's middleware."""

    async def provision(fetch: SignedFetch) -> None:
        await asyncio.to_thread(users.provision, fetch)
        print(f"provisioned {fetch.user_id} of {fetch.instance_id}", file=sys.stderr, flush=True)

    verifier = AsyncSignedFetchVerifier(
        {consumer_key: consumer_secret},
        known_users=KnownUsersTable(users),
        on_new_user=provision,
    )

    async def me(request: Request) -> JSONResponse:
        fetch = current_signed_fetch(request)
        body = await request.body()
        row = await asyncio.to_thread(users.find, fetch.instance_id, fetch.user_id)
        return JSONResponse(
            {
                "owner_id": fetch.owner_id,
                "user_id": fetch.user_id,
                "instance_id": fetch.instance_id,
                "viewer_id": fetch.viewer_id,
                "app_id": fetch.app_id,
                "received_bytes": len(body),
                "user": row,
            }
        )

    async def health(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[Route("/api/me", me, methods=["GET", "POST"]), Route("/healthz", health)],
        middleware=[
            Middleware(
                SignedFetchMiddleware,
                verifier=verifier,
                public_origin=public_origin,
                exempt_paths={"/healthz"},
                realm="example home server",
            )
        ],
    )


class _Server(uvicorn.Server):
    """uvicorn, printing the one line that says where it listens once it does."""

    def __init__(self, config: uvicorn.Config, announce: str) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            print(self._announce, flush=True)


def read_secret(path: str | None) -> str:
    """The consumer secret from the file, else from the environment; never from argv."""
    if path is not None:
        secret = Path(path).read_text(encoding="utf-8").strip("\r\n")
    else:
        secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        where = f"the file {path}" if path else f"${SECRET_ENV}"
        sys.exit(f"no consumer secret: {where} is empty; give --consumer-secret-file or set it")
    return secret


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port; 0 picks a free one (8081)")
    parser.add_argument("--consumer-key", required=True, help="the app's consumer key")
    parser.add_argument(
        "--consumer-secret-file",
        help=f"file holding the app's consumer secret (else ${SECRET_ENV})",
    )
    parser.add_argument("--db", default="users.db", help="SQLite file of users (users.db)")
    parser.add_argument(
        "--public-origin",
        help="scheme://host[:port] the gateway calls, when a reverse proxy is in front",
    )
    args = parser.parse_args()
    secret = read_secret(args.consumer_secret_file)
    users = Users(args.db)
    app = build_app(args.consumer_key, secret, users, args.public_origin)

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if family == socket.AF_INET6 else args.host
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    _Server(config, f"homeserver listening on http://{host}:{port}").run(sockets=[sock])


if __name__ == "__main__":
    main()
