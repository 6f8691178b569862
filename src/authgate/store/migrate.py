"""Schema migrations, run from code: no ``alembic.ini`` is needed on disk."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from authgate.store.session import Database

SCRIPT_LOCATION = "authgate.store:migrations"
"""The migration scripts, shipped inside the package."""

# Any constant: it names the lock that keeps two nodes from migrating at once.
_PG_MIGRATION_LOCK = 0x61757468


def alembic_config() -> Config:
    """An Alembic configuration pointing at the packaged migration scripts."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def head_revisions() -> frozenset[str]:
    """The newest revision of each branch the packaged scripts define."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def head_revision() -> str | None:
    """The packaged heads as one label (``0005`` or, while branches are open, ``0006+0007``)."""
    return _label(head_revisions())


async def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the database at ``url`` up to ``revision`` in one transaction."""
    await _run(url, "upgrade", revision)


async def downgrade(url: str, revision: str) -> None:
    """Take the database at ``url`` back to ``revision`` (``base`` empties it)."""
    await _run(url, "downgrade", revision)


async def current_revisions(url: str) -> frozenset[str]:
    """The revisions the database at ``url`` is at; empty when it was never migrated."""
    db = Database.from_url(url)
    try:
        async with db.connection(write=False) as conn:
            return await conn.run_sync(_current)
    finally:
        await db.dispose()


async def current_revision(url: str) -> str | None:
    """The database's revisions as one label, like :func:`head_revision`; None when empty."""
    return _label(await current_revisions(url))


async def is_up_to_date(url: str) -> bool:
    """Whether the database at ``url`` is at every packaged head."""
    return await current_revisions(url) == head_revisions()


def _label(revisions: frozenset[str]) -> str | None:
    return "+".join(sorted(revisions)) or None


def _current(conn: Connection) -> frozenset[str]:
    # Independent features add revisions on branches of their own; all heads must be applied.
    return frozenset(MigrationContext.configure(conn).get_current_heads())


async def _run(url: str, direction: str, revision: str) -> None:
    db = Database.from_url(url)
    try:
        async with db.transaction() as conn:
            if conn.dialect.name == "postgresql":
                # Released at commit; a second node waits, then finds nothing left to do.
                await conn.execute(text(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})"))
            await conn.run_sync(_run_sync, direction, revision)
    finally:
        await db.dispose()


def _run_sync(conn: Connection, direction: str, revision: str) -> None:
    config = alembic_config()
    # env.py migrates on this connection instead of opening its own.
    config.attributes["connection"] = conn
    if direction == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)
