"""Contract: engine settings, and how an unreachable database is reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from authgate.errors import ConfigurationError, ServiceUnavailable
from authgate.store import SqlStore, create_engine, open_store

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
