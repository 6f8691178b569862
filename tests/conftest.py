"""Fixtures for the real services tests run against: PostgreSQL, MariaDB and Redis.

Shared by ``tests/contract``, ``tests/http`` and ``tests/e2e``. When a service cannot be
reached the test is skipped with the reason, except under ``CI=true``, where it fails:
CI must never pass by skipping.

Where the services are (defaults are this machine's standard ports):

* ``AUTHGATE_TEST_POSTGRES``: ``user@host:port`` of a PostgreSQL server whose user may
  create databases (default: ``postgres@127.0.0.1:5432``, then ``root@127.0.0.1:5432``).
* ``AUTHGATE_TEST_REDIS_URL``: a Redis URL (default ``redis://127.0.0.1:6379/0``).
* ``AUTHGATE_TEST_MARIADB``: ``user@host:port`` of a MariaDB server (no password) whose
  user may create databases (default ``root@127.0.0.1:3306``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NoReturn

import asyncpg
import pytest
import pytest_asyncio
import redis

POSTGRES_SERVERS = ("postgres@127.0.0.1:5432", "root@127.0.0.1:5432")
REDIS_URL = "redis://127.0.0.1:6379/0"
CONNECT_TIMEOUT = 5


def service_unavailable(reason: str) -> NoReturn:
    """Skip the requesting test, or fail it when ``CI=true``."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: required services must be running)", pytrace=False)
    pytest.skip(reason)


async def _maintenance_connection() -> tuple[str, asyncpg.Connection]:
    """Connect to the ``postgres`` database of the first server that accepts us."""
    configured = os.environ.get("AUTHGATE_TEST_POSTGRES")
    servers = (configured,) if configured else POSTGRES_SERVERS
    errors = []
    for server in servers:
        try:
            conn = await asyncpg.connect(f"postgresql://{server}/postgres", timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            errors.append(f"{server}: {type(exc).__name__}: {exc}")
            continue
        return server, conn
    service_unavailable("PostgreSQL is not reachable (" + "; ".join(errors) + ")")


@asynccontextmanager
async def _new_database() -> AsyncIterator[str]:
    server, conn = await _maintenance_connection()
    name = f"authgate_test_{secrets.token_hex(6)}"
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield f"postgresql+asyncpg://{server}/{name}"
    finally:
        server, conn = await _maintenance_connection()
        try:
            # FORCE ends connections a test may have leaked, so the drop cannot hang.
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest_asyncio.fixture(loop_scope="session")
async def own_postgres_url() -> AsyncIterator[str]:
    """Like :func:`postgres_url`, but a database of this test's own (e.g. for processes
    that keep their own root key), dropped after the test."""
    async with _new_database() as url:
        yield url


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def postgres_url() -> AsyncIterator[str]:
    """URL (``postgresql+asyncpg://…``) of a new, empty database, dropped after the session.

    Each test session gets its own database (``authgate_test_<random>``), so parallel runs
    never see each other's rows. Tests sharing it should use unique ids or clean up.
    """
    async with _new_database() as url:
        yield url


MARIADB_SERVER = "root@127.0.0.1:3306"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def mariadb_server() -> str:
    """``user@host:port`` of a reachable MariaDB/MySQL server whose user may create
    databases (``AUTHGATE_TEST_MARIADB``, default ``root@127.0.0.1:3306``, no password).

    Other runs use the same server: create databases or tables with unique names and drop
    them afterwards.
    """
    import asyncmy

    server = os.environ.get("AUTHGATE_TEST_MARIADB", MARIADB_SERVER)
    user, _, address = server.partition("@")
    host, _, port = address.partition(":")
    try:
        conn = await asyncmy.connect(
            host=host, port=int(port or 3306), user=user, password="", connect_timeout=5
        )
    except (OSError, asyncmy.errors.MySQLError) as exc:
        service_unavailable(f"MariaDB is not reachable at {server} ({type(exc).__name__}: {exc})")
    conn.close()
    return server


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of a reachable Redis server.

    The database is shared with other runs: prefix keys with something unique per run
    (e.g. ``secrets.token_hex``) and delete them afterwards.
    """
    url = os.environ.get("AUTHGATE_TEST_REDIS_URL", REDIS_URL)
    client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_unavailable(f"Redis is not reachable at {url} ({type(exc).__name__}: {exc})")
    finally:
        client.close()
    return url
