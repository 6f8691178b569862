"""Contract: the packaged migrations build the schema the code expects."""

from __future__ import annotations

from importlib.resources import files

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from authgate.store import current_revision, is_up_to_date, upgrade
from authgate.store.migrate import downgrade, head_revision, head_revisions
from authgate.store.session import Database
from authgate.store.tables import metadata


def _differences(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


async def _inspect_schema(url: str) -> tuple[set[str], list[object]]:
    db = Database.from_url(url)
    try:
        async with db.connection(write=False) as conn:
            return await conn.run_sync(_tables), await conn.run_sync(_differences)
    finally:
        await db.dispose()


async def test_upgrade_builds_the_schema_from_empty(empty_url: str) -> None:
    assert await current_revision(empty_url) is None
    assert await is_up_to_date(empty_url) is False

    await upgrade(empty_url)

    assert await current_revision(empty_url) == head_revision()
    assert min(head_revisions()) >= "0005"
    assert await is_up_to_date(empty_url) is True
    tables, differences = await _inspect_schema(empty_url)
    assert tables == set(metadata.tables) | {"alembic_version"}
    # The hand-written revision and tables.py describe the same schema.
    assert differences == []


async def test_upgrade_again_changes_nothing_and_downgrade_empties(empty_url: str) -> None:
    await upgrade(empty_url)
    await upgrade(empty_url)
    assert await is_up_to_date(empty_url) is True

    await downgrade(empty_url, "base")

    assert await current_revision(empty_url) is None
    tables, _ = await _inspect_schema(empty_url)
    assert tables <= {"alembic_version"}


def test_migration_scripts_ship_inside_the_package() -> None:
    migrations = files("authgate.store") / "migrations"
    for name in ("env.py", "script.py.mako", "versions/0001_initial.py"):
        assert (migrations / name).is_file(), name
