"""Contract: engine settings, and how an unreachable database is reported."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from authgate.errors import ConfigurationError, ServiceUnavailable
from authgate.store import Database, SqlStore, create_engine, open_store

from . import records


async def test_sqlite_engine_settings_and_directory(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "authgate.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as conn:
            pragmas = {
                name: (await conn.execute(text(f"PRAGMA {name}"))).scalar_one()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
    finally:
        await engine.dispose()

    assert path.is_file()
    # synchronous=1 is NORMAL.
    expected = {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000, "synchronous": 1}
    assert pragmas == expected


def test_unsupported_urls_are_refused_with_the_fix() -> None:
    with pytest.raises(ConfigurationError, match=r"sqlite\+aiosqlite"):
        create_engine("mysql+aiomysql://root@localhost/db")


def test_an_uncreatable_sqlite_directory_is_a_configuration_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")

    with pytest.raises(ConfigurationError, match="cannot be created"):
        create_engine(f"sqlite+aiosqlite:///{blocker}/sub/authgate.db")


async def test_ping_answers_on_a_live_database(store: SqlStore) -> None:
    await store.ping()


async def _assert_unavailable(url: str) -> None:
    store = await open_store(url)
    try:
        with pytest.raises(ServiceUnavailable) as caught:
            await store.ping()
        # The message names no host, user or database.
        assert "127.0.0.1" not in caught.value.message
        assert "postgres" not in caught.value.message
        with pytest.raises(ServiceUnavailable):
            await store.users.create(records.user())
        with pytest.raises(ServiceUnavailable):
            async with store.transaction():
                pass
        # The refresh grant's driver path too.
        with pytest.raises(ServiceUnavailable):
            await store.refresh_tokens.find_with_role("0" * 43)
        with pytest.raises(ServiceUnavailable):
            await store.refresh_tokens.rotate("0" * 43, records.refresh_token("f"), records.NOW)
    finally:
        await store.close()


async def test_a_refused_connection_is_service_unavailable() -> None:
    await _assert_unavailable("postgresql+asyncpg://postgres@127.0.0.1:1/authgate")


async def test_an_unopenable_sqlite_file_is_service_unavailable(tmp_path: Path) -> None:
    # The path is a directory: SQLite cannot open it as a database file.
    await _assert_unavailable(f"sqlite+aiosqlite:///{tmp_path}")


@pytest.mark.postgres
async def test_a_missing_postgres_database_is_service_unavailable(postgres_url: str) -> None:
    await _assert_unavailable(postgres_url + "_missing")


def _small_store(store: SqlStore, **pool: float) -> SqlStore:
    """A second store on the same database with a tiny connection pool."""
    url = store.db.engine.url.render_as_string(hide_password=False)
    return SqlStore(Database(create_engine(url, **pool)))


async def test_more_concurrent_calls_than_connections_all_complete(store: SqlStore) -> None:
    user = records.user()
    await store.users.create(user)
    small = _small_store(store, pool_size=2, max_overflow=0)
    try:
        found = await asyncio.gather(*(small.users.get(user.id) for _ in range(40)))
    finally:
        await small.close()

    assert found == [user] * 40


async def test_an_exhausted_pool_is_service_unavailable(store: SqlStore) -> None:
    small = _small_store(store, pool_size=1, max_overflow=0, pool_timeout=0.2)
    entered, release = asyncio.Event(), asyncio.Event()

    async def hold_the_only_connection() -> None:
        async with small.transaction():
            entered.set()
            await release.wait()

    holder = asyncio.create_task(hold_the_only_connection())
    try:
        await entered.wait()
        with pytest.raises(ServiceUnavailable):
            await small.orgs.get_by_slug("someone")
    finally:
        release.set()
        await holder
        await small.close()
