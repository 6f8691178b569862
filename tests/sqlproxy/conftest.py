"""Real databases for SQL functions: a schema of its own in PostgreSQL's ``test`` database, a
database of its own on MariaDB, a SQLite file in a temporary folder. Each is made with a
unique name and dropped after the test, since other runs share the servers.

:class:`Harness` runs function files through the real engine and proxy, the way a call
does after the HTTP layer: load the file, resolve the connection, run, transform.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncmy
import asyncpg
import pytest
import pytest_asyncio

from authgate.functions.call import CallContext, CallResult, CallSolution, CallUser
from authgate.functions.loader import load_solution
from authgate.functions.model import SqlFunction
from authgate.functions.sql_engine import SqlFunctionEngine
from authgate.functions.sql_ports import SqlLimits
from authgate.sqlproxy.runner import SqlProxy
from tests.conftest import POSTGRES_SERVERS, service_unavailable

CONTEXT = CallContext(CallUser("u1", "ada@acme.example", "Ada"), CallSolution("s1", "sales", "o1"))
ENGINES = ("postgres", "mariadb", "sqlite")


@dataclass(frozen=True)
class Connection:
    """What the vault would hand out for a connection credential."""

    credential_id: str
    version: int
    url: str = field(repr=False)


class Resolver:
    """The vault's side for one call: every name maps to the same connection."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.asked: list[str] = []

    async def sql_connection(self, name: str) -> Connection:
        self.asked.append(name)
        return self.connection


def sql_function(text: str, name: str = "run") -> SqlFunction:
    """A function file loaded (and validated) the way publishing does."""
    files = {"solution.yaml": "name: sales\n", f"functions/{name}.jigx": text}
    function = load_solution(files).solution.functions[name]
    assert isinstance(function, SqlFunction)
    return function


@dataclass
class Database:
    """One engine's test database: its URL, and a way to run setup SQL directly."""

    engine: str
    url: str
    execute: Callable[[str], Any]
    scalar: Callable[[str], Any]


@dataclass
class Harness:
    """The SQL engine and proxy as the server wires them, over one database."""

    database: Database
    proxy: SqlProxy
    limits: SqlLimits = field(default_factory=SqlLimits)
    version: int = 1

    def connection(self, url: str | None = None) -> Connection:
        return Connection("cred-1", self.version, url or self.database.url)

    async def call(
        self, text: str, url: str | None = None, *, limits: SqlLimits | None = None, **params: Any
    ) -> CallResult:
        engine = SqlFunctionEngine(
            self.proxy, monotonic=time.monotonic, sql_limits=limits or self.limits
        )
        resolver = Resolver(self.connection(url))
        return await engine.call(sql_function(text), params, context=CONTEXT, connections=resolver)


def unique_name() -> str:
    return f"ag_sql_{secrets.token_hex(5)}"


@pytest_asyncio.fixture(loop_scope="session")
async def postgres_database() -> AsyncIterator[Database]:
    """A fresh schema in PostgreSQL's ``test`` database (the URL sets its search_path)."""
    errors = []
    for server in POSTGRES_SERVERS:
        try:
            conn = await asyncpg.connect(f"postgresql://{server}/test", timeout=5)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            errors.append(f"{server}: {type(exc).__name__}")
            continue
        break
    else:
        service_unavailable(
            "PostgreSQL database 'test' is not reachable (" + "; ".join(errors) + ")"
        )
    schema = unique_name()
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    await conn.execute(f'SET search_path = "{schema}"')

    async def execute(sql: str) -> None:
        await conn.execute(sql)

    async def scalar(sql: str) -> Any:
        return await conn.fetchval(sql)

    try:
        yield Database(
            "postgres", f"postgresql://{server}/test?search_path={schema}", execute, scalar
        )
    finally:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


@pytest_asyncio.fixture(loop_scope="session")
async def mariadb_database(mariadb_server: str) -> AsyncIterator[Database]:
    """A fresh database on the MariaDB server, dropped afterwards."""
    user, _, address = mariadb_server.partition("@")
    host, _, port = address.partition(":")
    name = unique_name()
    conn = await asyncmy.connect(host=host, port=int(port), user=user, password="", autocommit=True)
    async with conn.cursor() as cursor:
        await cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        await cursor.execute(f"USE `{name}`")

    async def execute(sql: str) -> None:
        async with conn.cursor() as cursor:
            await cursor.execute(sql)

    async def scalar(sql: str) -> Any:
        async with conn.cursor() as cursor:
            await cursor.execute(sql)
            row = await cursor.fetchone()
            return row[0] if row else None

    try:
        yield Database("mariadb", f"mysql://{mariadb_server}/{name}", execute, scalar)
    finally:
        async with conn.cursor() as cursor:
            await cursor.execute(f"DROP DATABASE `{name}`")
        conn.close()


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterable[Database]:
    """A SQLite file in a folder of its own (the folder SQL connections may open)."""
    file = tmp_path / "sales.db"
    conn = sqlite3.connect(file, isolation_level=None)

    def execute(sql: str) -> None:
        conn.execute(sql)

    def scalar(sql: str) -> Any:
        row = conn.execute(sql).fetchone()
        return row[0] if row else None

    async def aexecute(sql: str) -> None:
        execute(sql)

    async def ascalar(sql: str) -> Any:
        return scalar(sql)

    yield Database("sqlite", "sqlite:///sales.db", aexecute, ascalar)
    conn.close()


@pytest.fixture(params=ENGINES)
def database(request: pytest.FixtureRequest) -> Database:
    """Each engine in turn."""
    return request.getfixturevalue(f"{request.param}_database")


@pytest_asyncio.fixture(loop_scope="session")
async def harness(database: Database, tmp_path: Path) -> AsyncIterator[Harness]:
    proxy = SqlProxy(
        pool_size=4, statement_seconds=30, allowed_hosts=("127.0.0.1",), sqlite_dir=tmp_path
    )
    try:
        yield Harness(database, proxy)
    finally:
        await proxy.aclose()
