"""A solution's local results: one SQLite table per function (or the table a call names).

Each table has an ``id`` (text, the primary key) and ``data`` (the record as JSON). A call's
records replace the whole table by default; with ``forRowsWithMatchingIds: true`` they are
merged by ``id`` (rows with a new id are added, rows with a known id replaced, others kept),
as FUNCTIONS.md says. A record without an ``id`` gets its position in the call's records as
its id when the table is replaced; merging needs every record to carry one. The data stays
readable offline: nothing here talks to the server.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from authgate.client.errors import LocalDataError
from authgate.client.home import checked_name

META = "_authgate_tables"
# Table names are checked against a strict pattern and quoted before they are put in SQL
# text (hence the S608 exemptions below); every value is a bound parameter.


@dataclass(frozen=True, slots=True)
class TableInfo:
    """A local table: its name, the function that last wrote it, when, and its rows."""

    name: str
    function: str
    updated_at: float
    rows: int


def _quoted(table: str) -> str:
    return '"' + checked_name("table", table) + '"'


def row_id(record: Any, position: int, *, merge: bool) -> str:
    """The ``id`` a record is stored under."""
    if isinstance(record, dict) and record.get("id") is not None:
        value = record["id"]
        return value if isinstance(value, str) else orjson.dumps(value).decode()
    if merge:
        raise LocalDataError(
            "forRowsWithMatchingIds merges rows by id, but a record has no 'id'; "
            "make the function's records carry one"
        )
    return str(position)


class LocalData:
    """The SQLite database of one solution's local results."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                f'CREATE TABLE IF NOT EXISTS "{META}" (name TEXT PRIMARY KEY, '
                "function TEXT NOT NULL, updated_at REAL NOT NULL, rows INTEGER NOT NULL)"
            )
            yield conn

    def write(self, table: str, records: Sequence[Any], *, merge: bool, function: str) -> int:
        """Store a call's records (replace, or merge by id); the table's row count after."""
        name = _quoted(table)
        rows = [
            (row_id(record, position, merge=merge), orjson.dumps(record).decode())
            for position, record in enumerate(records)
        ]
        with self._connect() as conn, conn:
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {name} (id TEXT PRIMARY KEY, data TEXT NOT NULL)"
            )
            if not merge:
                conn.execute(f"DELETE FROM {name}")  # noqa: S608
            conn.executemany(
                f"INSERT INTO {name} (id, data) VALUES (?, ?) "  # noqa: S608
                "ON CONFLICT(id) DO UPDATE SET data = excluded.data",
                rows,
            )
            count = int(conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0])  # noqa: S608
            conn.execute(
                f'INSERT INTO "{META}" (name, function, updated_at, rows) '  # noqa: S608
                "VALUES (?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET function = excluded.function, "
                "updated_at = excluded.updated_at, rows = excluded.rows",
                (table, function, time.time(), count),
            )
        return count

    def rows(
        self,
        table: str,
        *,
        ids: Iterable[str] = (),
        where: Iterable[tuple[str, str]] = (),
        limit: int | None = None,
    ) -> list[Any]:
        """The table's records (as stored), by id; filtered by ids and top-level fields."""
        name = _quoted(table)
        clauses: list[str] = []
        arguments: list[Any] = []
        wanted = list(ids)
        if wanted:
            clauses.append(f"id IN ({', '.join('?' for _ in wanted)})")
            arguments.extend(wanted)
        for field, value in where:
            if not field.replace("_", "").isalnum():
                raise LocalDataError(f"filter field {field[:64]!r} must be a plain field name")
            clauses.append(f"CAST(json_extract(data, '$.\"{field}\"') AS TEXT) = ?")
            arguments.append(value)
        query = f"SELECT data FROM {name}"  # noqa: S608
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        query += " ORDER BY rowid"
        if limit is not None:
            query += " LIMIT ?"
            arguments.append(int(limit))
        if not self.path.exists():
            raise LocalDataError(f"there is no local table {table!r}: call a function first")
        with self._connect() as conn:
            try:
                found = conn.execute(query, arguments).fetchall()
            except sqlite3.OperationalError:
                raise LocalDataError(
                    f"there is no local table {table!r}: call a function first"
                ) from None
        return [orjson.loads(row[0]) for row in found]

    def tables(self) -> list[TableInfo]:
        """Every local table of the solution."""
        if not self.path.exists():
            return []
        with self._connect() as conn:
            found = conn.execute(
                f'SELECT name, function, updated_at, rows FROM "{META}" ORDER BY name'  # noqa: S608
            ).fetchall()
        return [TableInfo(*row) for row in found]

    def drop(self) -> None:
        """Delete the database (the solution was withdrawn from this user)."""
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
