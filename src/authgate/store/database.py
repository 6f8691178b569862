"""Engine construction: one function that knows the two supported backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from authgate.errors import ConfigurationError

UNAVAILABLE = "the database cannot be reached or is busy; check that it is running and retry"
SQLITE_BUSY_TIMEOUT_MS = 5000
BEGIN_MODE_OPTION = "authgate_sqlite_begin"
"""Execution option naming how a SQLite transaction begins: ``IMMEDIATE`` or ``DEFERRED``."""

_MEMORY_DATABASES = ("", ":memory:")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Build the async engine for ``url`` (``sqlite+aiosqlite`` or ``postgresql+asyncpg``).

    Extra keyword arguments go to :func:`sqlalchemy.ext.asyncio.create_async_engine`.
    """
    parsed = make_url(url)
    # Error messages must not echo bound values: they include token hashes and emails.
    kwargs.setdefault("hide_parameters", True)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.get_driver_name() == "aiosqlite":
        return _sqlite_engine(parsed, kwargs)
    if backend == "postgresql" and parsed.get_driver_name() == "asyncpg":
        return _postgres_engine(parsed, kwargs)
    raise ConfigurationError(
        f"unsupported database URL scheme '{parsed.drivername}'; "
        "use sqlite+aiosqlite:///path/to/file.db or postgresql+asyncpg://user@host/db"
    )


def is_memory_sqlite(url: URL) -> bool:
    """Whether ``url`` names a private in-memory SQLite database."""
    return url.get_backend_name() == "sqlite" and (url.database or "") in _MEMORY_DATABASES


def _sqlite_engine(url: URL, kwargs: dict[str, Any]) -> AsyncEngine:
    if is_memory_sqlite(url):
        # A private memory database exists per connection: everyone must share one.
        kwargs.setdefault("poolclass", StaticPool)
    elif url.database and not url.query.get("uri"):
        directory = Path(url.database).expanduser().parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(
                f"the database directory {directory} cannot be created ({exc.strerror}); "
                "choose a writable data directory or database URL"
            ) from None
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 driver, which skips it before SELECTs and so
        # breaks read-then-write transactions; the "begin" hook below emits it instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # WAL lets readers run beside the one writer; NORMAL is durable enough in WAL.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front: a deferred transaction that reads and then
        # writes fails with SQLITE_BUSY (no waiting) when another writer committed between.
        mode = conn.get_execution_options().get(BEGIN_MODE_OPTION, "IMMEDIATE")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")

    return engine


def _postgres_engine(url: URL, kwargs: dict[str, Any]) -> AsyncEngine:
    # Connections above pool_size are closed on return: under steady load that means a
    # reconnect per request, so keep the steady pool large and the overflow small.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_timeout", 10)
    # Recycle before typical proxy/firewall idle cut-offs; no pre-ping on the hot path.
    kwargs.setdefault("pool_recycle", 1800)
    connect_args = kwargs.setdefault("connect_args", {})
    connect_args.setdefault("timeout", 10)
    settings = connect_args.setdefault("server_settings", {})
    settings.setdefault("application_name", "authgate")
    # Short OLTP statements: JIT compilation only adds latency.
    settings.setdefault("jit", "off")
    return create_async_engine(url, **kwargs)
