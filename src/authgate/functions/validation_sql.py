"""Reading a ``DATA_PROVIDER_SQL`` function file (FUNCTIONS.md, "SQL functions").

``method: query`` runs one statement whose ``@Name`` placeholders and ``input`` parameters
match one for one; ``method: execute`` calls ``procedure`` with the input parameters and
returns the ``output`` ones. SQL functions always run in the cloud.
"""

from __future__ import annotations

import re

from authgate.functions.jigx_keys import FUNCTION_NOT_IMPLEMENTED
from authgate.functions.model import Parameter, ParameterLocation, Provider, SqlFunction
from authgate.functions.validation_fields import Fields
from authgate.functions.validation_parameters import read_parameters
from authgate.functions.validation_sql_text import scan_sql

SQL_KEYS = frozenset(
    {
        "provider",
        "connection",
        "method",
        "query",
        "procedure",
        "parameters",
        "outputTransform",
        "records",
        "forRowsWithMatchingIds",
        "useLocalCall",
    }
)
REST_ONLY_KEYS = frozenset(
    {"url", "format", "inputTransform", "continuation", "error", "disableTokenRefresh"}
)
METHODS = ("query", "execute")
MAX_CONNECTION = 128

# A procedure name, optionally schema- or database-qualified, plain or [bracketed].
_PART = r"(?:\[[^\[\]]{1,128}\]|[A-Za-z_#][A-Za-z0-9_@$#]{0,127})"
PROCEDURE = re.compile(rf"{_PART}(?:\.{_PART}){{0,2}}")


def read_sql_function(name: str, fields: Fields) -> SqlFunction | None:
    """The SQL function in ``fields`` (a whole file), or ``None`` after recording problems."""
    before = len(fields.findings.problems)
    fields.check_keys(SQL_KEYS | REST_ONLY_KEYS, FUNCTION_NOT_IMPLEMENTED)
    for key in REST_ONLY_KEYS & fields.node.entries.keys():
        fields.problem(key, f"'{key}' is for REST functions only; a SQL function cannot have it")
    if fields.boolean("useLocalCall"):
        fields.problem(
            "useLocalCall",
            "SQL functions always run in the cloud (a device never gets the connection); "
            "remove 'useLocalCall: true'",
        )
    connection = _connection(fields)
    method = _method(fields)
    parameters = read_parameters(fields, "parameters", Provider.SQL) or {}
    query = procedure = None
    if method == "query":
        query = _query(fields, parameters)
    elif method == "execute":
        procedure = _procedure(fields)
        _outputs_named_apart(fields, parameters)
    output_transform = fields.transform("outputTransform")
    records = fields.transform("records")
    matching_ids = fields.boolean("forRowsWithMatchingIds")
    if len(fields.findings.problems) != before or connection is None or method is None:
        return None
    return SqlFunction(
        name=name,
        source=fields.file,
        connection=connection,
        method=method,
        query=query,
        procedure=procedure,
        parameters=parameters,
        output_transform=output_transform or "=$",
        records=records,
        for_rows_with_matching_ids=bool(matching_ids),
    )


def _connection(fields: Fields) -> str | None:
    text = fields.text("connection", required=True)
    if text is None:
        return None
    if ";" in text or "=" in text:
        # Never echoed: this looks like a connection string, password included.
        fields.problem(
            "connection",
            "'connection' must be the name of a stored connection, never the connection "
            "string itself; store it in the vault and use its name",
        )
        return None
    if len(text) > MAX_CONNECTION or text != text.strip():
        fields.problem(
            "connection",
            f"'connection' must name a stored connection (at most {MAX_CONNECTION} characters, "
            "no surrounding spaces)",
        )
        return None
    return text


def _method(fields: Fields) -> str | None:
    text = fields.text("method", required=True)
    if text is None:
        return None
    if text.lower() not in METHODS:
        fields.problem("method", "'method' of a SQL function must be query or execute")
        return None
    return text.lower()


def _query(fields: Fields, parameters: dict[str, Parameter]) -> str | None:
    if fields.has("procedure"):
        fields.problem("procedure", "'procedure' is for 'method: execute'; a query has none")
    for name, parameter in parameters.items():
        if parameter.location is ParameterLocation.OUTPUT:
            fields.findings.problem(
                fields.file,
                f"parameters.{name}.location",
                fields.line_at("parameters", name, "location"),
                "output parameters are for 'method: execute' (stored procedures) only",
            )
    query = fields.text("query", required=True)
    if query is None:
        return None
    scan = scan_sql(query)
    if scan.problem is not None:
        fields.problem("query", scan.problem)
    elif scan.empty:
        fields.problem("query", "'query' has no SQL statement")
    elif scan.several_statements:
        fields.problem(
            "query", "'query' must be one statement; split the others into their own functions"
        )
    for placeholder in scan.placeholders:
        if placeholder not in parameters:  # an output one was reported above
            fields.problem(
                "query",
                f"the placeholder '@{placeholder[:64]}' needs a parameter '{placeholder[:64]}' "
                "with 'location: input'",
            )
    for name, parameter in parameters.items():
        if parameter.location is ParameterLocation.INPUT and name not in scan.placeholders:
            fields.findings.problem(
                fields.file,
                f"parameters.{name}",
                fields.line_at("parameters", name),
                f"input parameter '{name[:64]}' is not used: the query has no '@{name[:64]}'",
            )
    return query


def _procedure(fields: Fields) -> str | None:
    # Jigx files often leave an empty ``query: |`` next to the procedure: that is allowed.
    query = fields.value("query")
    if query is not None and not _blank(fields.plain("query")):
        fields.problem("query", "'method: execute' calls 'procedure'; leave 'query' out")
    procedure = fields.text("procedure", required=True)
    if procedure is not None and PROCEDURE.fullmatch(procedure.strip()) is None:
        fields.problem(
            "procedure",
            "'procedure' must be a stored procedure name such as sp_name or dbo.sp_name",
        )
        return None
    return None if procedure is None else procedure.strip()


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _outputs_named_apart(fields: Fields, parameters: dict[str, Parameter]) -> None:
    # With output parameters, ``$`` is an object of them plus ``rows`` (the result set).
    for name, parameter in parameters.items():
        if parameter.location is ParameterLocation.OUTPUT and name.lower() == "rows":
            fields.findings.problem(
                fields.file,
                f"parameters.{name}",
                fields.line_at("parameters", name),
                "an output parameter cannot be named 'rows': with output parameters the "
                "output holds the procedure's result set under 'rows'; rename it",
            )
