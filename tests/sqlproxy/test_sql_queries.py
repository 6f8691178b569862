"""SQL functions against real PostgreSQL, MariaDB and SQLite: queries, inserts, NULLs,
unicode, value types, the row cap, the statement timeout and read-only connections."""

from __future__ import annotations

import contextlib

import pytest

from authgate.functions.errors import InvalidFunctionArguments
from authgate.functions.sql_errors import (
    SqlConstraintViolation,
    SqlReadOnly,
    SqlRowCapExceeded,
    SqlStatementTimeout,
)
from authgate.functions.sql_ports import SqlLimits
from tests.sqlproxy.conftest import Database, Harness

CUSTOMERS = {
    "postgres": """CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name TEXT NOT NULL,
        last_name TEXT, city TEXT, balance NUMERIC(12,2), active BOOLEAN, joined DATE)""",
    "mariadb": """CREATE TABLE customers (id INT PRIMARY KEY, first_name VARCHAR(100) NOT NULL,
        last_name VARCHAR(100), city VARCHAR(100), balance DECIMAL(12,2), active BOOLEAN,
        joined DATE)""",
    "sqlite": """CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name TEXT NOT NULL,
        last_name TEXT, city TEXT, balance NUMERIC, active BOOLEAN, joined TEXT)""",
}
ROWS = """INSERT INTO customers VALUES
    (1, 'Ada', 'Lovelace', 'London', 12.50, TRUE, '2024-01-02'),
    (2, 'Adam', 'Smith', NULL, NULL, FALSE, NULL),
    (3, 'Zoë', 'Ωmega', '東京', 3.25, TRUE, '2023-12-31')"""


async def customers(database: Database) -> None:
    await database.execute(CUSTOMERS[database.engine])
    await database.execute(
        ROWS.replace("TRUE", "1").replace("FALSE", "0") if database.engine == "sqlite" else ROWS
    )


def query(sql: str, parameters: str = "", extra: str = "") -> str:
    indented = "\n".join("  " + line for line in sql.splitlines())
    return (
        "provider: DATA_PROVIDER_SQL\nconnection: sales.db\nmethod: query\n"
        f"query: |\n{indented}\n" + (f"parameters:\n{parameters}" if parameters else "") + extra
    )


def param(name: str, kind: str = "string", required: bool = False) -> str:
    return (
        f"  {name}:\n    type: {kind}\n    location: input\n    required: {str(required).lower()}\n"
    )


FIND = query(
    "SELECT id, first_name AS firstName, city FROM customers\n"
    "WHERE first_name LIKE @Prefix AND (@City IS NULL OR city = @City)\nORDER BY id",
    param("Prefix", required=True) + param("City"),
)


async def test_a_query_binds_its_placeholders_and_returns_records(harness: Harness) -> None:
    await customers(harness.database)
    result = await harness.call(FIND, Prefix="Ad%")
    assert [r["id"] for r in result.records] == [1, 2]
    assert [set(r) for r in result.records] == [{"id", "firstName", "city"}] * 2 or [
        set(r) for r in result.records
    ] == [{"id", "firstname", "city"}] * 2  # PostgreSQL folds unquoted aliases
    assert result.pages == 1
    assert result.output == result.records  # outputTransform =$ of the rows


async def test_an_optional_parameter_left_out_is_null(harness: Harness) -> None:
    await customers(harness.database)
    everyone = await harness.call(FIND, Prefix="%")
    in_london = await harness.call(FIND, Prefix="%", City="London")
    assert [r["id"] for r in everyone.records] == [1, 2, 3]
    assert [r["id"] for r in in_london.records] == [1]


async def test_unicode_and_nulls_come_back_unchanged(harness: Harness) -> None:
    await customers(harness.database)
    result = await harness.call(
        query(
            "SELECT first_name, last_name, city, balance FROM customers WHERE id = @Id",
            param("Id", "int", True),
        ),
        Id=3,
    )
    assert result.records == [
        {"first_name": "Zoë", "last_name": "Ωmega", "city": "東京", "balance": 3.25}
    ]
    nulls = await harness.call(
        query("SELECT city, balance, joined FROM customers WHERE id = @Id", param("Id", "int")),
        Id=2,
    )
    assert nulls.records == [{"city": None, "balance": None, "joined": None}]


async def test_column_values_become_json(harness: Harness) -> None:
    await customers(harness.database)
    result = await harness.call(
        query("SELECT balance, joined FROM customers WHERE id = @Id", param("Id", "int")), Id=1
    )
    assert result.records == [{"balance": 12.5, "joined": "2024-01-02"}]


async def test_an_insert_writes_and_returns_no_rows(harness: Harness) -> None:
    await customers(harness.database)
    insert = query(
        "INSERT INTO customers (id, first_name, city) VALUES (@Id, @Name, @City)",
        param("Id", "int", True) + param("Name", required=True) + param("City"),
    )
    result = await harness.call(insert, Id=10, Name="Grace ✓", City="Arlington")
    assert result.records == []
    found = await harness.database.scalar("SELECT first_name FROM customers WHERE id = 10")
    assert found == "Grace ✓"
    with pytest.raises(SqlConstraintViolation) as caught:
        await harness.call(insert, Id=10, Name="Again")
    assert caught.value.status == 409
    assert "Again" not in str(caught.value.description)


async def test_a_value_echoed_by_the_database_round_trips(harness: Harness) -> None:
    echo = query(
        "SELECT @Text AS t, @Number AS n, @Flag AS f",
        param("Text") + param("Number", "number") + param("Flag", "boolean"),
    )
    result = await harness.call(echo, Text="naïve ☃ 'quoted'", Number=2.5, Flag=True)
    (row,) = result.records
    assert row["t"] == "naïve ☃ 'quoted'"
    assert float(row["n"]) == 2.5
    assert row["f"] in (True, 1)


async def test_records_and_output_transform_use_the_function_expressions(
    harness: Harness,
) -> None:
    await customers(harness.database)
    text = query(
        "SELECT id, city FROM customers ORDER BY id",
        extra='outputTransform: \'=$[city != null].{"id": id, "place": city}\'\n'
        "records: '=$[place = \"London\"]'\n",
    )
    result = await harness.call(text)
    assert result.output == [{"id": 1, "place": "London"}, {"id": 3, "place": "東京"}]
    assert result.records == [{"id": 1, "place": "London"}]


SERIES = {
    "postgres": "SELECT n FROM generate_series(1, @Count) AS n",
    "mariadb": "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < @Count)"
    " SELECT n FROM s",
    "sqlite": "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < @Count)"
    " SELECT n FROM s",
}


async def test_a_result_at_the_row_cap_passes_and_one_more_is_an_error(
    harness: Harness,
) -> None:
    series = query(SERIES[harness.database.engine], param("Count", "int", True))
    limits = SqlLimits(max_rows=500)
    full = await harness.call(series, limits=limits, Count=500)
    assert len(full.records) == 500
    with pytest.raises(SqlRowCapExceeded) as caught:
        await harness.call(series, limits=limits, Count=50_000)
    assert caught.value.code == "sql_row_cap_exceeded"
    assert "500 rows" in caught.value.title
    # The pool is still usable after a result was abandoned.
    again = await harness.call(series, limits=limits, Count=3)
    assert [r["n"] for r in again.records] == [1, 2, 3]


SLOW = {
    "postgres": "SELECT pg_sleep(@Seconds) AS slept",
    "mariadb": "SELECT SLEEP(@Seconds) AS slept",
    "sqlite": "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 1e12)"
    " SELECT count(*) AS slept FROM s WHERE n > @Seconds",
}


async def test_a_slow_statement_is_cancelled_at_its_timeout(harness: Harness) -> None:
    slow = query(SLOW[harness.database.engine], param("Seconds", "number", True))
    with pytest.raises(SqlStatementTimeout) as caught:
        await harness.call(slow, limits=SqlLimits(statement_seconds=0.5), Seconds=30)
    assert caught.value.status == 504
    assert caught.value.code == "sql_statement_timeout"
    quick = await harness.call(query("SELECT 1 AS one"))
    assert quick.records == [{"one": 1}]


async def test_a_read_only_connection_refuses_writes(harness: Harness) -> None:
    await customers(harness.database)
    url = harness.database.url + ("&" if "?" in harness.database.url else "?") + "read_only=true"
    found = await harness.call(FIND, url, Prefix="Ada")
    assert [r["id"] for r in found.records] == [1]
    with pytest.raises(SqlReadOnly) as caught:
        await harness.call(query("DELETE FROM customers"), url)
    assert caught.value.status == 403
    assert await harness.database.scalar("SELECT COUNT(*) FROM customers") == 3
    # A statement that switches the session to writing does not last beyond itself.
    switch = {
        "postgres": "SET default_transaction_read_only = off",
        "mariadb": "SET SESSION TRANSACTION READ WRITE",
        "sqlite": "PRAGMA query_only = OFF",
    }[harness.database.engine]
    with contextlib.suppress(Exception):  # refused outright is as good
        await harness.call(query(switch), url)
    with pytest.raises(SqlReadOnly):
        await harness.call(query("DELETE FROM customers"), url)
    assert await harness.database.scalar("SELECT COUNT(*) FROM customers") == 3


async def test_a_wrongly_typed_value_is_refused_before_the_database(harness: Harness) -> None:
    with pytest.raises(InvalidFunctionArguments):
        await harness.call(FIND, Prefix=5)
