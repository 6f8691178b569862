"""SECURITY.md's SQL items against real databases: parameters are always bound (injection
through every parameter), one statement per call, a device never changes the connection,
and the connection URL never appears in an error or a log line. Pools are per credential
and recycled when it changes."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from authgate.errors import AuthgateError
from authgate.functions.errors import CredentialParameterRefused, InvalidFunctionArguments
from authgate.functions.sql_engine import SqlFunctionEngine
from authgate.functions.sql_errors import (
    SqlConnectionFailed,
    SqlConnectionInvalid,
    SqlConnectionRefused,
    SqlStatementRefused,
)
from authgate.sqlproxy.mysql import MysqlEngine
from authgate.sqlproxy.runner import SqlProxy
from authgate.sqlproxy.target import parse_target
from tests.sqlproxy.conftest import CONTEXT, Connection, Database, Harness, Resolver, sql_function
from tests.sqlproxy.test_sql_queries import customers, param, query

PASSWORD = "canary-db-password-71c9e2"

INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE customers; --",
    "\\'; DROP TABLE customers; -- ",
    "\\\\'; DROP TABLE customers; #",
    '" OR ""="',
    "%s%s%(x)s",
    "$1 $2 ?1 ? @Prefix @@version",
    "*/ DROP TABLE customers /*",
    "Ada' UNION SELECT 1, 'x', 'y' --",
    "１' OR 1=1 --",  # full-width digit, quotes stay quotes
    "\u2019 OR 1=1 --",  # a typographic quote
]


@pytest.mark.parametrize("value", INJECTIONS)
async def test_injection_through_every_parameter_is_inert(harness: Harness, value: str) -> None:
    await customers(harness.database)
    text = query(
        "SELECT id FROM customers WHERE first_name = @Name OR last_name = @Last "
        "OR city = @City ORDER BY id",
        param("Name") + param("Last") + param("City"),
    )
    result = await harness.call(text, Name=value, Last=value, City=value)
    assert result.records == []
    assert await harness.database.scalar("SELECT COUNT(*) FROM customers") == 3
    echoed = await harness.call(query("SELECT @Value AS v", param("Value")), Value=value)
    assert echoed.records == [{"v": value}]


async def test_a_nul_byte_is_refused_or_kept_never_truncating_the_statement(
    harness: Harness,
) -> None:
    await customers(harness.database)
    text = query("SELECT id FROM customers WHERE first_name = @Name", param("Name"))
    status = 200
    records: object = []
    try:
        records = (await harness.call(text, Name="Ada\x00' OR '1'='1")).records
    except AuthgateError as error:
        status = error.status
    assert records == []
    assert status in (200, 400, 502)
    assert await harness.database.scalar("SELECT COUNT(*) FROM customers") == 3


STACKED = {
    # Each is one statement to the publish-time lexer, two to the engine's own rules.
    "mariadb": "SELECT '\\'' ; DROP TABLE customers; -- '",
    "postgres": "SELECT E'\\'' ; DROP TABLE customers; -- '",
    "sqlite": "SELECT 1 ; DROP TABLE customers",
}


async def test_stacked_statements_are_refused(harness: Harness) -> None:
    await customers(harness.database)
    engine = harness.database.engine
    text = query(STACKED[engine])
    if engine == "sqlite":
        with pytest.raises(AuthgateError):  # refused when published: one statement
            sql_function(text)
    else:
        with pytest.raises(SqlStatementRefused) as caught:
            await harness.call(text)
        assert "more than one statement" in str(caught.value.description)
    assert await harness.database.scalar("SELECT COUNT(*) FROM customers") == 3


async def test_mariadb_connections_refuse_a_second_statement_on_the_wire(
    mariadb_database: Database,
) -> None:
    target = parse_target(mariadb_database.url, sqlite_dir=None)
    engine = MysqlEngine(target, pool_size=1, statement_seconds=5)
    connection = await engine._connect()
    try:
        async with connection.raw.cursor() as cursor:
            with pytest.raises(Exception) as caught:
                await cursor.execute("SELECT 1; SELECT 2")
        assert caught.value.args[0] == 1064  # a syntax error: multi-statements are off
    finally:
        connection.raw.close()


async def test_a_caller_can_neither_send_outputs_nor_name_the_connection(
    harness: Harness,
) -> None:
    text = (
        "provider: DATA_PROVIDER_SQL\nconnection: sales.db\nmethod: execute\nprocedure: p\n"
        "parameters:\n  Id: {type: int, location: input}\n  Out: {type: int, location: output}\n"
    )
    for extra in ({"Out": 1}, {"connection": "other.db"}, {"query": "DROP TABLE x"}):
        with pytest.raises(InvalidFunctionArguments) as caught:
            await harness.call(text, **extra)
        assert not isinstance(caught.value, CredentialParameterRefused) or "Out" not in extra


async def test_the_connection_string_never_appears_in_errors_or_logs(
    postgres_database: Database,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    bad_urls = {
        "refused": f"postgresql://ag_user:{PASSWORD}@127.0.0.1:1/db",
        "no-such-db": f"postgresql://postgres:{PASSWORD}@127.0.0.1:5432/ag_no_db_{PASSWORD}",
        "maria-refused": f"mysql://root:{PASSWORD}@127.0.0.1:1/x",
        "not-allowed": f"postgresql://u:{PASSWORD}@10.255.255.1:5432/db",
        "garbage": f"postgresql://u:{PASSWORD}@[::1/db",
        "scheme": f"oracle://u:{PASSWORD}@127.0.0.1/db",
        "socket": f"postgresql://u:{PASSWORD}@127.0.0.1/db?host=/tmp",
        "sqlite-off": f"sqlite:///{PASSWORD}.db",
    }
    proxy = SqlProxy(pool_size=1, statement_seconds=5, allowed_hosts=("127.0.0.1",))
    engine = SqlFunctionEngine(proxy, monotonic=time.monotonic)
    messages = []
    try:
        for number, (_, url) in enumerate(bad_urls.items()):
            resolver = Resolver(Connection(f"c{number}", 1, url))
            with pytest.raises(AuthgateError) as caught:
                await engine.call(
                    sql_function(query("SELECT 1")), {}, context=CONTEXT, connections=resolver
                )
            error = caught.value
            assert isinstance(
                error, SqlConnectionFailed | SqlConnectionRefused | SqlConnectionInvalid
            ), type(error)
            messages.append(f"{error.message} {getattr(error, 'description', '')} {error!r}")
    finally:
        await proxy.aclose()
    text = " ".join(messages)
    assert "sales.db" in text  # errors name the connection
    logged = caplog.text + "".join(capfd.readouterr())
    for secret in (PASSWORD, "ag_user", "127.0.0.1:1", "10.255.255.1"):
        assert secret not in text, secret
        assert secret not in logged, secret


async def test_a_changed_credential_recycles_its_pool(
    postgres_database: Database, sqlite_database: Database, tmp_path: Path
) -> None:
    proxy = SqlProxy(
        pool_size=2, statement_seconds=5, allowed_hosts=("127.0.0.1",), sqlite_dir=tmp_path
    )
    engine = SqlFunctionEngine(proxy, monotonic=time.monotonic)
    which = sql_function(query("SELECT @Engine AS engine", param("Engine")))
    try:
        first = Resolver(Connection("cred-9", 1, postgres_database.url))
        await engine.call(which, {"Engine": "a"}, context=CONTEXT, connections=first)
        assert proxy.open_pools == 1
        # Version 2 points the same credential at a SQLite file: a new pool, the old retired.
        second = Resolver(Connection("cred-9", 2, sqlite_database.url))
        table = sql_function(query("SELECT name FROM sqlite_master WHERE type = 'table'"))
        await sqlite_database.execute("CREATE TABLE only_in_sqlite (x)")
        found = await engine.call(table, {}, context=CONTEXT, connections=second)
        assert found.records == [{"name": "only_in_sqlite"}]
        assert proxy.open_pools == 1
        # A call still holding version 1 uses the newer pool rather than reopening the old.
        again = await engine.call(table, {}, context=CONTEXT, connections=first)
        assert again.records == [{"name": "only_in_sqlite"}]
    finally:
        await proxy.aclose()
    assert proxy.open_pools == 0
