"""The SQLite driver: reads on the event loop, writes on its thread, busy reads retried there."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from authgate.errors import ServiceUnavailable
from authgate.store.sqlite_driver import SqliteDriver, atomic


def _create(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)")


async def test_reads_run_on_the_loop_and_writes_on_the_drivers_thread(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    _create(path)
    driver = SqliteDriver(str(path))
    threads: list[str] = []

    def write(connection: sqlite3.Connection) -> None:
        threads.append(threading.current_thread().name)
        atomic(connection, lambda c: c.execute("INSERT INTO t VALUES ('a', 1)"))

    def read(connection: sqlite3.Connection) -> list[tuple[str, int]]:
        threads.append(threading.current_thread().name)
        return connection.execute("SELECT k, v FROM t").fetchall()

    await driver.run(write)
    assert await driver.read(read) == [("a", 1)]
    assert threads[0].startswith("authgate-sqlite")
    assert threads[1] == threading.current_thread().name
    await driver.close()


async def test_the_reader_refuses_to_write(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    _create(path)
    driver = SqliteDriver(str(path))
    with pytest.raises(ServiceUnavailable):
        await driver.read(lambda c: c.execute("INSERT INTO t VALUES ('b', 2)"))
    await driver.close()


async def test_a_busy_read_is_retried_on_the_thread(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    _create(path)
    driver = SqliteDriver(str(path))
    attempts: list[str] = []

    def busy_once(connection: sqlite3.Connection) -> int:
        attempts.append(threading.current_thread().name)
        if len(attempts) == 1:
            error = sqlite3.OperationalError("database is locked")
            error.sqlite_errorcode = sqlite3.SQLITE_BUSY  # type: ignore[attr-defined]
            raise error
        return int(connection.execute("SELECT count(*) FROM t").fetchone()[0])

    assert await driver.read(busy_once) == 0
    assert attempts[0] == threading.current_thread().name
    assert attempts[1].startswith("authgate-sqlite")
    await driver.close()
