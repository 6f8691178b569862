"""The database handle, its transactions, and the translation of driver errors.

A context variable holds the connection of the transaction in progress, so every repository
call made inside :meth:`Database.transaction` joins it without the domain passing anything
around. Outside a transaction each call opens its own short transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import QueuePool

from authgate.errors import Conflict, ServiceUnavailable
from authgate.store.database import (
    BEGIN_MODE_OPTION,
    UNAVAILABLE,
    create_engine,
    is_memory_sqlite,
)
from authgate.store.sqlite_driver import SqliteDriver

_PG_UNIQUE_VIOLATION = "23505"
_SQLITE_UNIQUE = {"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"}


def is_unique_violation(exc: IntegrityError) -> bool:
    """Whether ``exc`` reports a duplicate key (not a foreign key or NOT NULL failure)."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == _PG_UNIQUE_VIOLATION:
        return True
    return getattr(orig, "sqlite_errorname", None) in _SQLITE_UNIQUE


@contextmanager
def unavailable_on_connect() -> Iterator[None]:
    # Opening a connection fails with raw OSError (refused, unreachable) or a driver error
    # (unknown database, bad credentials): all mean the database is not usable now.
    try:
        yield
    except (OSError, TimeoutError, DBAPIError, PoolTimeout) as exc:
        raise ServiceUnavailable(UNAVAILABLE) from exc


@contextmanager
def _unavailable_on_failure() -> Iterator[None]:
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        raise ServiceUnavailable(UNAVAILABLE) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise ServiceUnavailable(UNAVAILABLE) from exc
        raise


class _FairGate:
    """Hands out the pool's connections first come, first served.

    SQLAlchemy's pool lets a task that just returned a connection take it straight back,
    so under saturation a waiting task can starve until the pool timeout. A FIFO
    semaphore sized to the pool queues the tasks fairly instead.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        pool = engine.pool
        self._semaphore: asyncio.Semaphore | None = None
        self._timeout = 30.0
        if isinstance(pool, QueuePool):
            max_overflow: int = getattr(pool, "_max_overflow", -1)
            self._timeout = pool.timeout()
            if max_overflow >= 0:
                self._semaphore = asyncio.Semaphore(pool.size() + max_overflow)

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[None]:
        if self._semaphore is None:
            yield
            return
        try:
            async with asyncio.timeout(self._timeout):
                await self._semaphore.acquire()
        except TimeoutError:
            raise ServiceUnavailable(UNAVAILABLE) from None
        try:
            yield
        finally:
            self._semaphore.release()


class Database:
    """Holds the engine and the transaction in progress (per task, via a context variable).

    Do not run repository calls concurrently (``asyncio.gather``) inside one transaction:
    they would share one connection, which serves one statement at a time.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        if engine.dialect.name == "postgresql":
            # A lone statement is atomic by itself: skipping BEGIN and COMMIT saves two round
            # trips. READ COMMITTED gives each statement its own snapshot anyway, so reads
            # lose nothing by running outside a transaction.
            self._statement = engine.execution_options(isolation_level="AUTOCOMMIT")
            self._reader = self._statement
        else:
            # SQLite reads share one snapshot but need no write lock; writes take it up front.
            self._reader = engine.execution_options(**{BEGIN_MODE_OPTION: "DEFERRED"})
            self._statement = engine
        self.sqlite_driver: SqliteDriver | None = None
        """SQLite files only: the connection hot-path statements run on (see store.driver)."""
        url = engine.url
        if self.dialect == "sqlite" and not is_memory_sqlite(url) and not url.query.get("uri"):
            self.sqlite_driver = SqliteDriver(str(url.database))
        self.gate = _FairGate(engine)
        """Admits a task to the pool first come, first served (see :class:`_FairGate`)."""
        # One variable per Database: two databases in one process never share a connection.
        self._current: ContextVar[AsyncConnection | None] = ContextVar(
            f"authgate_db_{id(self)}", default=None
        )

    @classmethod
    def from_url(cls, url: str, **engine_options: Any) -> Database:
        """A database on a new engine for ``url`` (options go to :func:`create_engine`)."""
        return cls(create_engine(url, **engine_options))

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def in_transaction(self) -> bool:
        """Whether the current task is inside :meth:`transaction`."""
        return self._current.get() is not None

    @property
    def driver_path(self) -> bool:
        """Whether a statement that is atomic alone may take :mod:`authgate.store.driver`:
        outside a transaction, on PostgreSQL or a SQLite file."""
        if self._current.get() is not None:
            return False
        return self.sqlite_driver is not None or self.dialect == "postgresql"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """Group every repository call of this task into one transaction (nesting joins it).

        Commits when the block ends, rolls back when it raises.
        """
        current = self._current.get()
        if current is not None:
            yield current
            return
        async with self._begin(self.engine) as conn:
            token = self._current.set(conn)
            try:
                yield conn
            finally:
                self._current.reset(token)

    @asynccontextmanager
    async def connection(self, *, write: bool = True) -> AsyncIterator[AsyncConnection]:
        """The current transaction's connection, or a new short transaction of its own.

        ``write=False`` promises only reads: they then need no write lock (SQLite) or no
        transaction at all (PostgreSQL).
        """
        async with self._connect(self.engine if write else self._reader) as conn:
            yield conn

    @asynccontextmanager
    async def single_statement(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one statement that is atomic by itself.

        Joins the transaction in progress; otherwise runs without BEGIN/COMMIT on
        PostgreSQL, and in a short write transaction on SQLite.
        """
        async with self._connect(self._statement) as conn:
            yield conn

    @asynccontextmanager
    async def unique(
        self, conflict: str, *, single_statement: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """A write connection whose duplicate-key errors become ``Conflict(conflict)``.

        Inside an outer transaction the statements run in a savepoint, so that the caller
        may catch the conflict and go on with its transaction. ``single_statement=True``
        promises one statement that is atomic alone (see :meth:`single_statement`).
        """
        joined = self.in_transaction
        opened = self.single_statement() if single_statement else self.connection()
        async with opened as conn:
            try:
                if joined:
                    async with conn.begin_nested():
                        yield conn
                else:
                    yield conn
            except IntegrityError as exc:
                if not is_unique_violation(exc):
                    raise
                # The driver's message names the duplicate value, which may be secret.
                raise Conflict(conflict) from None

    @asynccontextmanager
    async def _connect(self, engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
        current = self._current.get()
        if current is not None:
            with _unavailable_on_failure():
                yield current
            return
        async with self._begin(engine) as conn:
            yield conn

    async def dispose(self) -> None:
        """Close every pooled connection."""
        if self.sqlite_driver is not None:
            await self.sqlite_driver.close()
        await self.engine.dispose()

    @asynccontextmanager
    async def _begin(self, engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
        async with self.gate():
            with unavailable_on_connect():
                conn = await engine.connect()
            try:
                with _unavailable_on_failure():
                    async with conn.begin():
                        yield conn
            finally:
                await conn.close()
