"""Connection URLs, the SQLite folder fence, ODBC connection strings, and the SQL Server
engine's statement and result handling, without a server (none can run here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from authgate.functions.model import ParameterType
from authgate.functions.sql_dialect import SqlDialect
from authgate.functions.sql_errors import SqlDriverUnavailable, SqlRowCapExceeded
from authgate.functions.sql_ports import SqlCall
from authgate.sqlproxy.mssql import MssqlEngine, mssql_outcome, mssql_statement
from authgate.sqlproxy.target import InvalidTarget, odbc_connection_string, parse_target

SECRET = "p@ss;word}=x"


def call(method: str = "query", **changes: object) -> SqlCall:
    fields: dict[str, object] = {
        "function": "f",
        "connection": "sales.azure",
        "method": method,
        "query": "SELECT name FROM t WHERE id = @Id AND @Id > 0",
        "procedure": "dbo.sp_Up",
        "values": {"Id": 5},
        "inputs": ("Id",),
        "outputs": (),
        "timeout": 5.0,
        "max_rows": 2,
    }
    fields.update(changes)
    return SqlCall(**fields)  # type: ignore[arg-type]


def test_urls_name_engine_host_login_and_options() -> None:
    target = parse_target(
        "postgresql+asyncpg://ada:p%40ss@db.internal:6432/sales?sslmode=require&read_only=yes",
        sqlite_dir=None,
    )
    assert (target.dialect, target.host, target.port) == (
        SqlDialect.POSTGRESQL,
        "db.internal",
        6432,
    )
    assert (target.user, target.password, target.database) == ("ada", "p@ss", "sales")
    assert target.options == (("sslmode", "require"),)
    assert target.read_only
    assert parse_target("mariadb://root@h/x", sqlite_dir=None).port == 3306
    assert "p@ss" not in repr(target)


@pytest.mark.parametrize(
    "url",
    [
        f"oracle://u:{SECRET}@h/db",
        f"postgresql://u:{SECRET}@/db",
        f"postgresql://u:{SECRET}@h1,h2/db",
        f"postgresql://u:{SECRET}@h/db?host=/var/run",
        f"mysql://u:{SECRET}@h/db?unix_socket=/tmp/s",
        f"postgresql://u:{SECRET}@h:99999/db",
        f"mssql://u:{SECRET}@h/db?read_only=maybe",
        f"sqlite:///{SECRET}.db",
    ],
)
def test_unusable_urls_are_refused_without_quoting_them(url: str) -> None:
    with pytest.raises(InvalidTarget) as caught:
        parse_target(url, sqlite_dir=None)
    assert SECRET not in str(caught.value)
    assert "p@ss" not in str(caught.value)


def test_sqlite_files_stay_inside_their_folder(tmp_path: Path) -> None:
    inside = tmp_path / "data"
    inside.mkdir()
    (inside / "sales.db").touch()
    (tmp_path / "authgate.db").touch()
    (inside / "link.db").symlink_to(tmp_path / "authgate.db")
    assert parse_target("sqlite:///sales.db", sqlite_dir=inside).path == inside / "sales.db"
    # An absolute-looking path is still a name inside the folder.
    assert parse_target("sqlite:////etc/passwd", sqlite_dir=inside).path == inside / "etc/passwd"
    for url in (
        "sqlite:///../authgate.db",
        "sqlite:///link.db",
        "sqlite:///",
        "sqlite://host/sales.db",
        "sqlite:///sales.db?mode=rwc",
    ):
        with pytest.raises(InvalidTarget):
            parse_target(url, sqlite_dir=inside)


def test_odbc_values_cannot_break_out_of_their_attribute() -> None:
    target = parse_target(
        "mssql://sa:p%3Bss%7D%3Dx@sql.example:1433/sales?encrypt=yes&read_only=true",
        sqlite_dir=None,
    )
    text = odbc_connection_string(target)
    assert text == (
        "DRIVER={ODBC Driver 18 for SQL Server};SERVER={tcp:sql.example,1433};"
        "DATABASE={sales};UID={sa};PWD={p;ss}}=x};ApplicationIntent={ReadOnly};encrypt={yes}"
    )
    bad = parse_target("mssql://sa@h/db?x%3Dy%3B=1", sqlite_dir=None)
    with pytest.raises(InvalidTarget):
        odbc_connection_string(bad)


def test_sql_server_statements_bind_every_value() -> None:
    query = mssql_statement(call())
    assert query.text == "SELECT name FROM t WHERE id = ? AND ? > 0"
    assert query.names == ("Id", "Id")
    procedure = mssql_statement(call("execute", outputs=(("Done", ParameterType.BOOLEAN),)))
    assert "EXEC [dbo].[sp_Up] @Id = ?, @Done = @__authgate_out1 OUTPUT;" in procedure.text
    assert procedure.names == ("Id",)


def test_sql_server_result_sets_become_rows_and_outputs() -> None:
    execute = call("execute", outputs=(("Done", ParameterType.BOOLEAN),))
    found = mssql_outcome(execute, [(["id"], [(1,), (2,)]), (["Done"], [(1,)])])
    assert found.rows == [{"id": 1}, {"id": 2}]
    assert found.outputs == {"Done": True}
    only_outputs = mssql_outcome(execute, [(["Done"], [(0,)])])
    assert (only_outputs.rows, only_outputs.result_set, only_outputs.outputs) == (
        [], False, {"Done": False}
    )  # fmt: skip
    with pytest.raises(SqlRowCapExceeded):
        mssql_outcome(call(), [(["id"], [(1,), (2,), (3,)])])


async def test_without_the_driver_sql_server_says_which_extra_it_needs() -> None:
    try:
        import aioodbc  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("the mssql extra is installed here")
    target = parse_target("mssql://sa:pw@127.0.0.1:1/db", sqlite_dir=None)
    engine = MssqlEngine(target, pool_size=1, statement_seconds=1)
    with pytest.raises(SqlDriverUnavailable) as caught:
        await engine.run(call())
    assert "mssql" in caught.value.message
    await engine.close()
