"""Jigx SQL function files, loaded unchanged, against real PostgreSQL and MariaDB: a query
with ``@FirstName``-style tokens, and stored procedures with input and output parameters
(PostgreSQL procedures and functions, MariaDB procedures)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from authgate.functions.folder import read_solution_folder
from authgate.functions.loader import load_solution
from authgate.functions.model import SqlFunction
from authgate.functions.sql_engine import SqlFunctionEngine
from authgate.functions.sql_errors import SqlStatementFailed, SqlStatementRefused
from tests.sqlproxy.conftest import CONTEXT, Database, Harness, Resolver

FIXTURE = Path(__file__).parent.parent / "fixtures" / "solutions" / "sql-sales"

TABLE = {
    "postgres": "CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name TEXT NOT NULL, "
    "last_name TEXT, city TEXT, row_version INTEGER NOT NULL DEFAULT 1)",
    "mariadb": "CREATE TABLE customers (id INT PRIMARY KEY, first_name VARCHAR(100) NOT NULL, "
    "last_name VARCHAR(100), city VARCHAR(100), row_version INT NOT NULL DEFAULT 1)",
}
PROCEDURE = {
    "postgres": """
CREATE PROCEDURE sp_UpsertCustomer(CustomerId INTEGER, FirstName TEXT, LastName TEXT,
                                   OUT Created BOOLEAN, OUT RowVersion INTEGER)
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE customers SET first_name = FirstName, last_name = LastName,
         row_version = row_version + 1 WHERE id = CustomerId RETURNING row_version INTO RowVersion;
  Created := NOT FOUND;
  IF Created THEN
    INSERT INTO customers (id, first_name, last_name) VALUES (CustomerId, FirstName, LastName);
    RowVersion := 1;
  END IF;
END $$""",
    "mariadb": """
CREATE PROCEDURE sp_UpsertCustomer(IN CustomerId INT, IN FirstName VARCHAR(100),
                                   IN LastName VARCHAR(100), OUT Created BOOLEAN,
                                   OUT RowVersion INT)
BEGIN
  UPDATE customers SET first_name = FirstName, last_name = LastName,
         row_version = row_version + 1 WHERE id = CustomerId;
  SET Created = ROW_COUNT() = 0;
  IF Created THEN
    INSERT INTO customers (id, first_name, last_name) VALUES (CustomerId, FirstName, LastName);
  END IF;
  SELECT row_version INTO RowVersion FROM customers WHERE id = CustomerId;
END""",
}
LISTING = {
    "postgres": """
CREATE FUNCTION customers_in(place TEXT) RETURNS TABLE (id INTEGER, name TEXT)
LANGUAGE sql AS $$ SELECT id, first_name FROM customers WHERE city = place ORDER BY id $$""",
    "mariadb": """
CREATE PROCEDURE customers_in(IN place VARCHAR(100))
BEGIN
  SELECT id, first_name AS name FROM customers WHERE city = place ORDER BY id;
END""",
}


@pytest.fixture(params=["postgres", "mariadb"])
def database(request: pytest.FixtureRequest) -> Database:
    """Only the engines with stored procedures."""
    return request.getfixturevalue(f"{request.param}_database")


def fixture_functions() -> dict[str, SqlFunction]:
    loaded = load_solution(read_solution_folder(FIXTURE))
    assert loaded.warnings == ()
    functions = {}
    for name, function in loaded.solution.functions.items():
        assert isinstance(function, SqlFunction)
        functions[name] = function
    return functions


async def run(harness: Harness, function: SqlFunction, **params: object) -> object:
    engine = SqlFunctionEngine(harness.proxy, monotonic=time.monotonic)
    resolver = Resolver(harness.connection())
    return await engine.call(function, params, context=CONTEXT, connections=resolver)


async def prepare(database: Database) -> None:
    await database.execute(TABLE[database.engine])
    await database.execute(PROCEDURE[database.engine])
    await database.execute(LISTING[database.engine])
    await database.execute(
        "INSERT INTO customers (id, first_name, last_name, city) VALUES "
        "(1, 'Ada', 'Lovelace', 'London'), (2, 'Adam', 'Smith', NULL), (3, 'Alan', 'Turing', "
        "'London')"
    )


async def test_the_jigx_files_load_unchanged() -> None:
    functions = fixture_functions()
    assert set(functions) == {"find-customers", "upsert-customer"}
    upsert = functions["upsert-customer"]
    assert upsert.method == "execute"
    assert upsert.procedure == "sp_UpsertCustomer"
    assert [p.location.value for p in upsert.parameters.values()] == [
        "input", "input", "input", "output", "output"
    ]  # fmt: skip


async def test_the_jigx_query_finds_customers(harness: Harness) -> None:
    await prepare(harness.database)
    find = fixture_functions()["find-customers"]
    result = await run(harness, find, FirstName="Ada")
    assert [r["id"] for r in result.records] == [1, 2]  # type: ignore[attr-defined]
    london = await run(harness, find, FirstName="A", City="London")
    assert [r["id"] for r in london.records] == [1, 3]  # type: ignore[attr-defined]


async def test_a_stored_procedure_returns_its_output_parameters(harness: Harness) -> None:
    await prepare(harness.database)
    upsert = fixture_functions()["upsert-customer"]
    created = await run(harness, upsert, CustomerId=7, FirstName="Grace", LastName="Hopper")
    assert created.records == [{"Created": True, "RowVersion": 1}]  # type: ignore[attr-defined]
    updated = await run(harness, upsert, CustomerId=7, FirstName="Grace", LastName="Murray")
    assert updated.output == {"Created": False, "RowVersion": 2}  # type: ignore[attr-defined]
    assert await harness.database.scalar("SELECT last_name FROM customers WHERE id = 7") == "Murray"


async def test_a_procedure_result_set_comes_back_as_records(harness: Harness) -> None:
    await prepare(harness.database)
    listing = """\
provider: DATA_PROVIDER_SQL
connection: sales.db
method: execute
procedure: customers_in
parameters:
  place: {type: string, location: input, required: true}
"""
    result = await harness.call(listing, place="London")
    assert result.records == [{"id": 1, "name": "Ada"}, {"id": 3, "name": "Alan"}]


async def test_an_unknown_procedure_is_a_clear_error(harness: Harness) -> None:
    await prepare(harness.database)
    missing = (
        "provider: DATA_PROVIDER_SQL\nconnection: sales.db\nmethod: execute\nprocedure: nope_x\n"
    )
    with pytest.raises(SqlStatementFailed) as caught:
        await harness.call(missing)
    assert "procedure" in caught.value.title


async def test_sqlite_has_no_stored_procedures(sqlite_database: Database, tmp_path: Path) -> None:
    from authgate.sqlproxy.runner import SqlProxy

    proxy = SqlProxy(pool_size=1, statement_seconds=5, sqlite_dir=tmp_path)
    try:
        harness = Harness(sqlite_database, proxy)
        text = "provider: DATA_PROVIDER_SQL\nconnection: sales.db\nmethod: execute\nprocedure: p\n"
        with pytest.raises(SqlStatementRefused) as caught:
            await harness.call(text)
        assert "SQLite" in caught.value.title
    finally:
        await proxy.aclose()
