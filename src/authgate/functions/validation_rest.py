"""Reading a ``DATA_PROVIDER_REST`` function file (FUNCTIONS.md, "REST functions").

Beyond each key's type: a literal ``url`` is an absolute http(s) URL without userinfo; its
``{name}`` placeholders and the ``path`` parameters match one for one (in the continuation
too); ``retry`` is bounded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from authgate.functions.jigx_keys import ERROR_HANDLER_NOT_IMPLEMENTED, FUNCTION_NOT_IMPLEMENTED
from authgate.functions.model import (
    Continuation,
    ErrorHandler,
    Parameter,
    ParameterLocation,
    Provider,
    ResponseFormat,
    RestFunction,
    Retry,
    is_expression,
)
from authgate.functions.validation_fields import Fields, kind_of
from authgate.functions.validation_parameters import read_parameters
from authgate.functions.yaml_source import YMap, YScalar

REST_KEYS = frozenset(
    {
        "provider",
        "method",
        "url",
        "format",
        "useLocalCall",
        "parameters",
        "inputTransform",
        "outputTransform",
        "records",
        "continuation",
        "error",
        "forRowsWithMatchingIds",
        "disableTokenRefresh",
    }
)
CONTINUATION_KEYS = frozenset({"when", "url", "parameters"})
ERROR_KEYS = frozenset({"when", "title", "description", "details", "retry"})
RETRY_KEYS = frozenset({"delay", "maxRetries"})

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"})
MAX_URL = 8192
MAX_RETRY_DELAY_MS = 60_000
MAX_RETRIES = 10
DEFAULT_RETRY_DELAY_MS = 5_000  # Jigx's delay between automatic retries
DEFAULT_MAX_RETRIES = 3

_TEXT_FORMATS = {
    "json": ResponseFormat.JSON,
    "text": ResponseFormat.TEXT,
    "xml": ResponseFormat.XML,
}
_FORMAT_NAME = re.compile(r"[a-z0-9][a-z0-9.+-]{0,31}")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def read_rest_function(name: str, fields: Fields) -> RestFunction | None:
    """The REST function in ``fields`` (a whole file), or ``None`` after recording problems."""
    before = len(fields.findings.problems)
    fields.check_keys(REST_KEYS, FUNCTION_NOT_IMPLEMENTED)
    method = _method(fields)
    url = _url(fields, "url", required=True)
    response_format, format_name = _format(fields)
    parameters = read_parameters(fields, "parameters", Provider.REST) or {}
    if url is not None:
        _match_placeholders(fields, "url", url, parameters, "parameters")
    input_transform = fields.transform("inputTransform")
    output_transform = fields.transform("outputTransform")
    records = fields.transform("records")
    continuation = _continuation(fields)
    handlers = _error_handlers(fields)
    use_local_call = fields.boolean("useLocalCall")
    matching_ids = fields.boolean("forRowsWithMatchingIds")
    no_refresh = fields.boolean("disableTokenRefresh")
    if len(fields.findings.problems) != before or method is None or url is None:
        return None
    return RestFunction(
        name=name,
        source=fields.file,
        method=method,
        url=url,
        format=response_format,
        format_name=format_name,
        use_local_call=bool(use_local_call),
        parameters=parameters,
        input_transform=input_transform,
        output_transform=output_transform or "=$",
        records=records,
        continuation=continuation,
        error_handlers=handlers,
        for_rows_with_matching_ids=bool(matching_ids),
        disable_token_refresh=bool(no_refresh),
    )


def _method(fields: Fields) -> str | None:
    text = fields.text("method", required=True)
    if text is None:
        return None
    if text.upper() not in METHODS:
        fields.problem("method", f"'method' must be one of: {', '.join(sorted(METHODS))}")
        return None
    return text.upper()


def _format(fields: Fields) -> tuple[ResponseFormat, str]:
    text = fields.text("format")
    if text is None:
        return ResponseFormat.JSON, "json"
    name = text.strip().lower()
    if name in _TEXT_FORMATS:
        return _TEXT_FORMATS[name], name
    if _FORMAT_NAME.fullmatch(name) is None:
        fields.problem(
            "format", "'format' must be json, text, xml, or the name of a binary format (pdf …)"
        )
        return ResponseFormat.JSON, "json"
    return ResponseFormat.BINARY, name


def _url(fields: Fields, name: str, *, required: bool) -> str | None:
    text = fields.text(name, required=required)
    if text is None:
        return None
    if is_expression(text):
        fields.check_expression(name, text)
        return text
    problem = _url_problem(text)
    if problem is not None:
        fields.problem(name, problem)
        return None
    return text


def _url_problem(text: str) -> str | None:
    if len(text) > MAX_URL:
        return f"the URL is longer than {MAX_URL} characters"
    if any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        return "the URL must not contain spaces or control characters"
    try:
        parts = urlsplit(text)
    except ValueError:
        return "the URL is not valid"
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return "the URL must be absolute, starting with https:// or http:// (or be an expression)"
    if "@" in parts.netloc:
        return "the URL must not carry a user name or password; use a credential parameter"
    return None


def _match_placeholders(
    fields: Fields,
    url_key: str,
    url: str,
    parameters: Mapping[str, Parameter],
    parameters_key: str,
) -> None:
    """Each ``{name}`` of a literal URL has a path parameter, and each path parameter a
    ``{name}``."""
    if is_expression(url):
        return
    placeholders = _PLACEHOLDER.findall(url)
    for placeholder in dict.fromkeys(placeholders):
        parameter = parameters.get(placeholder)
        url_line = fields.line_at(*url_key.split("."))
        if not placeholder:
            fields.findings.problem(
                fields.file, url_key, url_line, "the URL has an empty '{}' placeholder"
            )
        elif parameter is None or parameter.location is not ParameterLocation.PATH:
            fields.findings.problem(
                fields.file,
                url_key,
                url_line,
                f"the URL's placeholder '{{{placeholder[:64]}}}' needs a parameter "
                f"'{placeholder[:64]}' with 'location: path' under '{parameters_key}'",
            )
    for name, parameter in parameters.items():
        if parameter.location is ParameterLocation.PATH and name not in placeholders:
            fields.findings.problem(
                fields.file,
                f"{parameters_key}.{name}.location",
                fields.line_at(*parameters_key.split("."), name, "location"),
                f"path parameter '{name[:64]}' has no '{{{name[:64]}}}' placeholder in '{url_key}'",
            )


def _continuation(fields: Fields) -> Continuation | None:
    block = fields.mapping("continuation")
    if block is None:
        return None
    block.check_keys(CONTINUATION_KEYS, frozenset())
    when = block.expression("when", required=True)
    url = _url(block, "url", required=True)
    parameters = read_parameters(block, "parameters", Provider.REST)
    if url is not None:
        _match_placeholders(
            fields, "continuation.url", url, parameters or {}, "continuation.parameters"
        )
    if when is None or url is None:
        return None
    return Continuation(when=when, url=url, parameters=parameters)


def _error_handlers(fields: Fields) -> tuple[ErrorHandler, ...]:
    handlers: list[ErrorHandler] = []
    for key, node in fields.sequence("error"):
        if not isinstance(node, YMap):
            fields.findings.problem(
                fields.file,
                key,
                node.line,
                f"an error handler must be a mapping, not {kind_of(node)}",
            )
            continue
        handler = Fields(fields.findings, fields.file, key, node)
        handler.check_keys(ERROR_KEYS, ERROR_HANDLER_NOT_IMPLEMENTED)
        texts = {
            name: _text_or_expression(handler, name) for name in ("title", "description", "details")
        }
        handlers.append(
            ErrorHandler(
                when=handler.expression("when"),
                title=texts["title"],
                description=texts["description"],
                details=texts["details"],
                retry=_retry(handler),
            )
        )
    return tuple(handlers)


def _text_or_expression(fields: Fields, name: str) -> str | None:
    text = fields.text(name, empty_ok=True)
    if text is not None and is_expression(text):
        fields.check_expression(name, text)
    return text


def _retry(handler: Fields) -> Retry | None:
    block = handler.mapping("retry")
    if block is None:
        return None
    block.check_keys(RETRY_KEYS, frozenset())
    delay = DEFAULT_RETRY_DELAY_MS
    node = block.value("delay")
    if isinstance(node, YScalar) and isinstance(node.value, str):
        if is_expression(node.value):
            block.check_expression("delay", node.value)
            block.warn(
                "delay",
                "a computed retry delay is a Jigx feature authgate does not run yet; "
                f"retries wait {DEFAULT_RETRY_DELAY_MS} ms",
            )
        else:
            block.problem("delay", "'delay' must be a number of milliseconds or an expression")
    elif node is not None:
        value = block.integer("delay", low=0, high=MAX_RETRY_DELAY_MS)
        delay = delay if value is None else value
    retries = block.integer("maxRetries", low=0, high=MAX_RETRIES)
    return Retry(delay_ms=delay, max_retries=DEFAULT_MAX_RETRIES if retries is None else retries)
