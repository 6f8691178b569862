"""One self-contained statement and its row, on the driver path when the database allows
it (:mod:`authgate.store.driver`) and through SQLAlchemy otherwise (inside a transaction)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table

from authgate.store.driver import DriverStatement, execute, fetch_row, fetch_written
from authgate.store.session import Database


async def read_row(
    db: Database, statement: DriverStatement, values: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The first row of a query as a dict (or None), on the driver path when it may."""
    if db.driver_path:
        return await fetch_row(db, statement, values)
    async with db.connection(write=False) as conn:
        row = (await conn.execute(statement.statement, values)).first()
    return None if row is None else dict(row._mapping)


async def written_row(
    db: Database, statement: DriverStatement, values: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The row one self-contained ``UPDATE``/``DELETE … RETURNING`` returns, or None."""
    if db.driver_path:
        return await fetch_written(db, statement, values)
    async with db.single_statement() as conn:
        row = (await conn.execute(statement.statement, values)).first()
    return None if row is None else dict(row._mapping)


async def insert_row(
    db: Database, statement: DriverStatement, values: Mapping[str, Any], conflict: str
) -> None:
    """Run one insert; a duplicate key is ``Conflict(conflict)``."""
    if db.driver_path:
        await execute(db, [(statement, values)], conflict=conflict)
        return
    async with db.unique(conflict, single_statement=True) as conn:
        await conn.execute(statement.statement, values)


def column_values(record: object, table: Table, **converted: Any) -> dict[str, Any]:
    """The record's attribute for each column of ``table``; ``converted`` overrides some."""
    values = {column.name: getattr(record, column.name) for column in table.c}
    values.update(converted)
    return values
