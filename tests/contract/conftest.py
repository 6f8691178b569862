"""The storage contract suite runs every test on SQLite and on PostgreSQL.

Each backend gets one migrated database per session; every test starts from empty tables.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import delete
from sqlalchemy.engine import make_url

from authgate.identity.models import Organization, User
from authgate.store import SqlStore, open_store
from authgate.store.tables import metadata

from . import records

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``."""
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The session's database URL of ``backend`` (not migrated yet)."""
    if backend == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    path: Path = tmp_path_factory.mktemp("sqlite") / "authgate.db"
    return f"sqlite+aiosqlite:///{path}"


@pytest_asyncio.fixture(loop_scope="session")
async def empty_url(backend: str, database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a new, empty database on ``backend``, dropped after the test."""
    if backend == "sqlite":
        # A nested directory that does not exist yet: the engine must create it.
        yield f"sqlite+aiosqlite:///{tmp_path / 'new' / 'authgate.db'}"
        return
    base = make_url(database_url)
    name = f"{base.database}_{secrets.token_hex(3)}"
    server = base.set(drivername="postgresql", database="postgres")
    await _maintain(server.render_as_string(hide_password=False), f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        await _maintain(
            server.render_as_string(hide_password=False),
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        )


async def _maintain(server: str, statement: str) -> None:
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def session_store(database_url: str) -> AsyncIterator[SqlStore]:
    """One migrated store per backend for the whole session."""
    store = await open_store(database_url, migrate=True)
    yield store
    await store.close()


@pytest_asyncio.fixture(loop_scope="session")
async def store(session_store: SqlStore) -> AsyncIterator[SqlStore]:
    """The backend's store, with every table emptied after the test."""
    yield session_store
    async with session_store.db.transaction() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(delete(table))


@pytest_asyncio.fixture(loop_scope="session")
async def an_org(store: SqlStore) -> Organization:
    """A stored organization."""
    org = records.org()
    await store.orgs.create(org)
    return org


@pytest_asyncio.fixture(loop_scope="session")
async def a_user(store: SqlStore) -> User:
    """A stored user."""
    user = records.user()
    await store.users.create(user)
    return user
