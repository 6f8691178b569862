"""Alembic environment of authgate.

``authgate.store.migrate`` hands over an open connection (``config.attributes``). From the
``alembic`` command line, the URL comes from ``sqlalchemy.url`` or ``AUTHGATE_DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import Connection

from authgate.store.database import create_engine
from authgate.store.tables import metadata

config = context.config


def _configure(**kwargs: object) -> None:
    context.configure(target_metadata=metadata, compare_type=True, **kwargs)  # type: ignore[arg-type]


def _run_on(connection: Connection) -> None:
    # SQLite can alter tables only by copying them: batch mode does that.
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run_on)
    finally:
        await engine.dispose()


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("AUTHGATE_DATABASE_URL")
    if not url:
        raise RuntimeError("set AUTHGATE_DATABASE_URL (or sqlalchemy.url) to migrate")
    return url


def main() -> None:
    """Run the migrations on the handed-over connection, as SQL text, or on a new engine."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
    elif context.is_offline_mode():
        _configure(url=_url(), literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(_run_online(_url()))


main()
