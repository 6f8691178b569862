"""The pure parts of SQL functions: @Name placeholders in each driver's paramstyle, each
engine's lexical rules, procedure-call shapes, value binding and row shaping — SQL Server's
included, which has no live server here."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from authgate.functions.errors import InvalidFunctionArguments
from authgate.functions.folder import read_solution_folder
from authgate.functions.loader import load_solution
from authgate.functions.model import ParameterType, SqlFunction
from authgate.functions.sql_dialect import SqlDialect, StatementRefused, translate_query
from authgate.functions.sql_procedure import (
    ArgumentMode,
    ProcedureArgument,
    mssql_call,
    mysql_call,
    postgres_call,
    quoted_name,
)
from authgate.functions.sql_values import bind_value, json_value, output_values, shape_rows

FIELD_SALES = Path(__file__).parents[2] / "fixtures" / "solutions" / "field-sales"
QUERY = "SELECT * FROM t WHERE a = @A AND b = @B OR a = @A -- @C\n AND s = '@D'"


@pytest.mark.parametrize(
    ("dialect", "text", "names"),
    [
        (
            SqlDialect.POSTGRESQL,
            "SELECT * FROM t WHERE a = $1 AND b = $2 OR a = $1 -- @C\n AND s = '@D'",
            ("A", "B"),
        ),
        (
            SqlDialect.SQLITE,
            "SELECT * FROM t WHERE a = ?1 AND b = ?2 OR a = ?1 -- @C\n AND s = '@D'",
            ("A", "B"),
        ),
        (
            SqlDialect.MYSQL,
            "SELECT * FROM t WHERE a = %s AND b = %s OR a = %s -- @C\n AND s = '@D'",
            ("A", "B", "A"),
        ),
        (
            SqlDialect.MSSQL,
            "SELECT * FROM t WHERE a = ? AND b = ? OR a = ? -- @C\n AND s = '@D'",
            ("A", "B", "A"),
        ),
    ],
)
def test_placeholders_become_the_drivers_markers(
    dialect: SqlDialect, text: str, names: tuple[str, ...]
) -> None:
    statement = translate_query(QUERY, dialect)
    assert statement.text == text
    assert statement.names == names


def test_mysql_doubles_percent_signs_for_its_driver() -> None:
    statement = translate_query("SELECT * FROM t WHERE n LIKE '10%' AND x = @X", SqlDialect.MYSQL)
    assert statement.text == "SELECT * FROM t WHERE n LIKE '10%%' AND x = %s"
    assert statement.text % ("'v'",) == "SELECT * FROM t WHERE n LIKE '10%' AND x = 'v'"


def test_postgresql_casts_where_asked() -> None:
    statement = translate_query(
        "SELECT @A, @B WHERE @B IS NULL", SqlDialect.POSTGRESQL, {"A": "bigint"}, {"B": "text"}
    )
    assert statement.text == "SELECT $1::bigint, $2 WHERE $2::text IS NULL"


@pytest.mark.parametrize(
    ("dialect", "text"),
    [
        (SqlDialect.MYSQL, "SELECT '\\'' ; DROP TABLE t; -- '"),  # backslash escapes
        (SqlDialect.MYSQL, "SELECT 5 --1; DROP TABLE t"),  # '--1' is no comment in MySQL
        (SqlDialect.MYSQL, "SELECT $a$ ; DROP TABLE t; $a$"),  # no dollar quoting
        (SqlDialect.POSTGRESQL, "SELECT E'\\'' ; DROP TABLE t; -- '"),  # escape strings
        (SqlDialect.SQLITE, "SELECT 1 /* /* */ ; DROP TABLE t; -- */"),  # comments don't nest
    ],
)
def test_each_engine_reads_statements_with_its_own_rules(dialect: SqlDialect, text: str) -> None:
    with pytest.raises(StatementRefused, match="more than one statement"):
        translate_query(text, dialect)


def test_mysql_hash_comments_hide_placeholders_and_separators() -> None:
    statement = translate_query("SELECT @A # ; DROP TABLE t @B\n", SqlDialect.MYSQL)
    assert statement.names == ("A",)


def test_a_postgres_identifier_with_a_dollar_is_not_a_dollar_quote() -> None:
    statement = translate_query("SELECT a$b$ FROM t WHERE x = @X", SqlDialect.POSTGRESQL)
    assert statement.text == "SELECT a$b$ FROM t WHERE x = $1"


def test_the_jigx_t_sql_query_translates_for_sql_server() -> None:
    function = load_solution(read_solution_folder(FIELD_SALES)).solution.functions["find-customers"]
    assert isinstance(function, SqlFunction)
    assert function.query is not None
    statement = translate_query(function.query, SqlDialect.MSSQL)
    assert statement.names == ("FirstName", "City", "City")
    assert "LIKE ? + '%'" in statement.text
    assert "(? IS NULL OR city = ?)" in statement.text
    assert "'nobody@example.com'" in statement.text  # '@' inside a literal stays


def test_the_jigx_procedure_call_shape_for_sql_server() -> None:
    function = load_solution(read_solution_folder(FIELD_SALES)).solution.functions[
        "upsert-customer"
    ]
    assert isinstance(function, SqlFunction)
    assert function.procedure is not None
    outputs = [
        (name, p.type) for name, p in function.parameters.items() if p.location.value == "output"
    ]
    inputs = [name for name, p in function.parameters.items() if p.location.value == "input"]
    statement = mssql_call(function.procedure, inputs=inputs, outputs=outputs)
    assert statement.text == (
        "SET NOCOUNT ON;\n"
        "DECLARE @__authgate_out1 bit, @__authgate_out2 float;\n"
        "EXEC [dbo].[sp_UpsertCustomer] @CustomerId = ?, @FirstName = ?, @LastName = ?, "
        "@Created = @__authgate_out1 OUTPUT, @RowVersion = @__authgate_out2 OUTPUT;\n"
        "SELECT @__authgate_out1 AS [Created], @__authgate_out2 AS [RowVersion];"
    )
    assert statement.names == ("CustomerId", "FirstName", "LastName")


def test_procedure_names_are_quoted_for_each_engine() -> None:
    assert quoted_name("dbo.[Odd Name]", SqlDialect.MSSQL) == "[dbo].[Odd Name]"
    assert quoted_name("[My Proc]", SqlDialect.POSTGRESQL) == '"My Proc"'
    assert quoted_name("sales.sp_Up", SqlDialect.POSTGRESQL) == "sales.sp_Up"
    assert quoted_name("sales.sp_Up", SqlDialect.MYSQL) == "`sales`.`sp_Up`"
    with pytest.raises(ValueError, match="procedure name"):
        quoted_name("sp_x; DROP TABLE t", SqlDialect.MYSQL)


def test_postgres_calls_name_their_arguments() -> None:
    arguments = [
        ProcedureArgument("customerid", ArgumentMode.IN),
        ProcedureArgument("note", ArgumentMode.IN),
        ProcedureArgument("created", ArgumentMode.OUT),
    ]
    call = postgres_call("sp_Up", is_procedure=True, arguments=arguments, inputs=["CustomerId"])
    assert call.text == 'CALL sp_Up("customerid" => $1, "created" => NULL)'
    assert call.names == ("CustomerId",)
    function = postgres_call("f", is_procedure=False, arguments=[], inputs=["Place"])
    assert function.text == 'SELECT * FROM f("place" => $1)'


def test_mysql_calls_follow_the_procedures_own_order() -> None:
    arguments = [
        ProcedureArgument("Created", ArgumentMode.OUT),
        ProcedureArgument("Id", ArgumentMode.IN),
        ProcedureArgument("Skipped", ArgumentMode.IN),
        ProcedureArgument("Counter", ArgumentMode.INOUT),
    ]
    shape = mysql_call("sp", arguments=arguments, inputs=["id", "Counter"], outputs=["created"])
    assert shape.call.text == "CALL `sp`(@__authgate_out1, %s, NULL, @__authgate_out4)"
    assert shape.call.names == ("id",)
    assert [(s.text, s.names) for s in shape.setup] == [("SET @__authgate_out4 = %s", ("Counter",))]
    assert shape.read_outputs == "SELECT @__authgate_out1 AS `created`"


def test_values_are_bound_in_their_declared_types() -> None:
    assert bind_value("n", ParameterType.INTEGER, 5.0) == 5
    assert bind_value("n", ParameterType.INTEGER, "7") == 7
    assert bind_value("n", ParameterType.NUMBER, "2.5") == 2.5
    assert bind_value("b", ParameterType.BOOLEAN, "true") is True
    assert bind_value("s", ParameterType.STRING, 12) == "12"
    assert bind_value("o", ParameterType.OBJECT, {"a": "ü"}) == '{"a":"ü"}'
    assert bind_value("x", ParameterType.STRING, None) is None
    with pytest.raises(InvalidFunctionArguments, match="'n'") as caught:
        bind_value("n", ParameterType.INTEGER, "seven-secret")
    assert "seven-secret" not in caught.value.message


def test_columns_become_json() -> None:
    assert json_value(Decimal("12.50")) == 12.5
    assert json_value(Decimal("10")) == 10
    assert json_value(Decimal("0.1000000000000000000001")) == "0.1000000000000000000001"
    assert json_value(datetime.date(2024, 1, 2)) == "2024-01-02"
    assert json_value(datetime.datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02T03:04:05"
    assert json_value(b"\x00\xff") == "AP8="
    assert json_value(2**70) == str(2**70)
    assert json_value(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert shape_rows(["a", "b"], [(1, None), (2, "x")]) == [
        {"a": 1, "b": None},
        {"a": 2, "b": "x"},
    ]
    outputs = output_values(
        [("Created", ParameterType.BOOLEAN), ("Missing", ParameterType.STRING)], {"created": 1}
    )
    assert outputs == {"Created": True, "Missing": None}
