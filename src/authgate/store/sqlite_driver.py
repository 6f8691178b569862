"""One sqlite3 connection on a thread of its own, for hot-path statements on SQLite.

Through SQLAlchemy and aiosqlite, one SQLite statement costs four hand-offs between the event
loop and the driver's thread (cursor, execute, fetch, close), and a short transaction adds
BEGIN, COMMIT and the pool's reset: a password sign-in made about forty of them, each a
context switch and a GIL hand-over, which cost more CPU than the statements themselves. Here
a write (a few inserts in one transaction) is one hand-off to a thread of its own, and a read
(a query and its rows) runs on the event loop itself with no hand-off at all. The connections
run in autocommit mode, in WAL like the engine's, so they read what the engine's connections
committed, and the writes are committed when the unit returns.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from authgate.errors import ServiceUnavailable
from authgate.store.database import SQLITE_BUSY_TIMEOUT_MS, UNAVAILABLE

_T = TypeVar("_T")


class SqliteDriver:
    """Runs units of work on one autocommit ``sqlite3`` connection, one unit at a time."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="authgate-sqlite")
        self._connection: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None

    async def read(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """The result of a read-only ``work``, run on the event loop itself.

        A WAL reader never waits for the writer, and an indexed lookup takes microseconds:
        less than handing it to a thread, and under load much less than the GIL hand-over
        between a busy event loop and that thread. The reader connection does not wait on a
        lock (``timeout=0``); should the database be busy anyway, the unit goes to the thread.
        """
        try:
            return work(self._reader or self._open_reader())
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                return await self.run(work)
            raise ServiceUnavailable(UNAVAILABLE) from exc
        except sqlite3.DatabaseError as exc:
            raise ServiceUnavailable(UNAVAILABLE) from exc

    def _open_reader(self) -> sqlite3.Connection:
        reader = sqlite3.connect(
            self._path, isolation_level=None, check_same_thread=False, timeout=0
        )
        reader.execute("PRAGMA query_only=ON")
        self._reader = reader
        return reader

    async def run(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """The result of ``work(connection)``, run on the driver's thread.

        ``sqlite3.IntegrityError`` reaches the caller (it decides what a conflict means);
        a locked, missing or broken database becomes :class:`ServiceUnavailable`.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, work)

    def _call(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        try:
            connection = self._connection or self._open()
            return work(connection)
        except sqlite3.IntegrityError:
            raise
        except (sqlite3.OperationalError, sqlite3.DatabaseError) as exc:
            raise ServiceUnavailable(UNAVAILABLE) from exc

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._path,
            isolation_level=None,  # autocommit; transactions are explicit (see atomic)
            check_same_thread=False,  # only ever used on the one executor thread
            timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
        )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA synchronous=NORMAL")
        self._connection = connection
        return connection

    async def close(self) -> None:
        """Close the connection (the next unit of work opens a new one)."""

        def close_connection() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, close_connection)
        if self._reader is not None:
            self._reader.close()
            self._reader = None


def atomic(connection: sqlite3.Connection, work: Callable[[sqlite3.Connection], _T]) -> _T:
    """Run ``work`` in one write transaction (taking the write lock up front)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        result = work(connection)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return result
