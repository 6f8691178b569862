"""Reading a function's ``parameters:`` block (FUNCTIONS.md, "Parameters").

Each parameter is ``name: {location, type, required, value}``. REST parameters go to the
path, query, headers or body, or are filled from the vault (``credential``/``secret``: the
``value`` names the stored credential). SQL parameters are procedure or placeholder
``input``s and stored-procedure ``output``s.

Jigx lets header parameters carry the authentication kind as their ``type`` (``microsoft``,
``authname`` …); any type authgate does not check is read as text.
"""

from __future__ import annotations

import re

from authgate.functions.model import Parameter, ParameterLocation, ParameterType, Provider
from authgate.functions.validation import CREDENTIAL_LOCATIONS
from authgate.functions.validation_fields import Fields, kind_of
from authgate.functions.yaml_source import YMap

PARAMETER_KEYS = frozenset({"location", "type", "required", "value"})

REST_LOCATIONS = frozenset(
    {
        ParameterLocation.PATH,
        ParameterLocation.QUERY,
        ParameterLocation.HEADER,
        ParameterLocation.BODY,
        ParameterLocation.CREDENTIAL,
        ParameterLocation.SECRET,
    }
)
SQL_LOCATIONS = frozenset({ParameterLocation.INPUT, ParameterLocation.OUTPUT})
SQL_BOTH = "both"  # Jigx: an input that is also an output

_TYPES = {
    "string": ParameterType.STRING,
    "number": ParameterType.NUMBER,
    "int": ParameterType.INTEGER,
    "integer": ParameterType.INTEGER,
    "boolean": ParameterType.BOOLEAN,
    "bool": ParameterType.BOOLEAN,
    "object": ParameterType.OBJECT,
    "array": ParameterType.ARRAY,
}
# Locations where Jigx uses ``type`` to name an authentication kind rather than a JSON type.
_AUTH_TYPED = frozenset(
    {ParameterLocation.HEADER, ParameterLocation.CREDENTIAL, ParameterLocation.SECRET}
)

HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 §5.6.2 token
SQL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_NAME = 128


def read_parameters(parent: Fields, name: str, provider: Provider) -> dict[str, Parameter] | None:
    """The parameters under ``parent[name]``; ``None`` when absent (or not a mapping)."""
    block = parent.mapping(name)
    if block is None:
        return None
    parameters: dict[str, Parameter] = {}
    for param_name, entry in block.node.entries.items():
        node = entry.value
        if not isinstance(node, YMap):
            block.problem(
                param_name,
                f"parameter '{param_name[:64]}' must be a mapping with location, type, "
                f"required and value, not {kind_of(node)}",
            )
            continue
        fields = Fields(block.findings, block.file, block.path(param_name), node, entry.key_line)
        parameter = _read_parameter(param_name, fields, provider, entry.key_line)
        if parameter is not None:
            parameters[param_name] = parameter
    return parameters


def _read_parameter(
    name: str, fields: Fields, provider: Provider, key_line: int
) -> Parameter | None:
    fields.check_keys(PARAMETER_KEYS, frozenset())
    location = _location(fields, provider)
    if not _name_ok(name, location, fields, key_line):
        return None
    kind = _type(fields, location)
    required = fields.boolean("required")
    value = fields.plain("value")
    if isinstance(value, str) and value.startswith("="):
        fields.check_expression("value", value)
    if location is None or kind is None:
        return None
    credential = None
    if location is ParameterLocation.PATH:
        if required is False:
            fields.problem(
                "required", "path parameters are always required; remove 'required: false'"
            )
        required = True
    if location in CREDENTIAL_LOCATIONS:
        credential = _credential_name(fields, value)
        if credential is None:
            return None
    return Parameter(
        name=name,
        location=location,
        type=kind,
        required=bool(required),
        value=value,
        credential=credential,
    )


def _location(fields: Fields, provider: Provider) -> ParameterLocation | None:
    text = fields.text("location", required=True)
    if text is None:
        return None
    allowed = REST_LOCATIONS if provider is Provider.REST else SQL_LOCATIONS
    if provider is Provider.SQL and text == SQL_BOTH:
        fields.warn(
            "location",
            "'location: both' (input and output) is a Jigx feature authgate does not run yet; "
            "the parameter is read as an input only",
        )
        return ParameterLocation.INPUT
    try:
        location = ParameterLocation(text)
    except ValueError:
        location = None
    if location not in allowed:
        expected = ", ".join(sorted(item.value for item in allowed))
        fields.problem("location", f"'location' must be one of: {expected}")
        return None
    return location


def _type(fields: Fields, location: ParameterLocation | None) -> ParameterType | None:
    node = fields.value("type")
    if node is None:
        return ParameterType.STRING
    text = fields.text("type", required=True)
    if text is None:
        return None
    kind = _TYPES.get(text.lower())
    if kind is not None:
        return kind
    if location not in _AUTH_TYPED:
        fields.warn(
            "type", "authgate does not check this parameter type; the value is read as text"
        )
    return ParameterType.STRING


def _name_ok(name: str, location: ParameterLocation | None, fields: Fields, key_line: int) -> bool:
    problem = None
    if not name.strip() or len(name) > MAX_NAME:
        problem = f"a parameter name must have 1 to {MAX_NAME} characters"
    elif location is ParameterLocation.HEADER and HEADER_NAME.fullmatch(name) is None:
        problem = "a header parameter's name must be a valid HTTP header name"
    elif location in (ParameterLocation.INPUT, ParameterLocation.OUTPUT) and (
        SQL_NAME.fullmatch(name) is None
    ):
        problem = (
            "a SQL parameter's name must be letters, digits and '_' (not starting with a digit)"
        )
    elif location is ParameterLocation.PATH and ("{" in name or "}" in name or "/" in name):
        problem = "a path parameter's name cannot contain '{', '}' or '/'"
    if problem is not None:
        fields.findings.problem(fields.file, fields.key, key_line, problem)
        return False
    return True


def _credential_name(fields: Fields, value: object) -> str | None:
    if not isinstance(value, str) or not value.strip() or value.startswith("="):
        fields.problem(
            "value",
            "a credential or secret parameter needs 'value': the name of the stored credential",
        )
        return None
    return value
