"""Read an upstream's body in the function's ``format`` (FUNCTIONS.md, "REST functions").

* ``json``: the parsed document (an empty body is ``None``); anything else is a clean 502.
  ``NaN`` and ``Infinity`` are refused: they are not JSON (RFC 8259 §6); nor are numbers
  out of a double's range, or integers longer than Python parses by default.
* ``text``: a string, decoded with the charset the Content-Type names (UTF-8 otherwise).
* ``xml``: see :mod:`authgate.functions.xml_document` (no DTD, no entities, bounded nesting).
* ``binary`` (``pdf`` and other names): ``{"contentType": ..., "base64": ...}``.

Error messages name the format and the kind of problem, never any part of the body.
"""

from __future__ import annotations

import base64
import codecs
import json
import math
from typing import Any

from authgate.functions.errors import InvalidUpstreamResponse
from authgate.functions.model import ResponseFormat
from authgate.functions.ports import UpstreamResponse
from authgate.functions.xml_document import XmlRefused, parse_xml

DEFAULT_CONTENT_TYPE = "application/octet-stream"


def decode_body(response: UpstreamResponse, body_format: ResponseFormat) -> Any:
    """The body of a successful response as the function's expressions see it."""
    if body_format is ResponseFormat.BINARY:
        return {
            "contentType": response.header("content-type") or DEFAULT_CONTENT_TYPE,
            "base64": base64.b64encode(response.body).decode("ascii"),
        }
    if body_format is ResponseFormat.TEXT:
        return _text(response)
    if not response.body.strip():
        return None
    if body_format is ResponseFormat.XML:
        try:
            return parse_xml(response.body)
        except XmlRefused as exc:
            raise _invalid("xml", str(exc)) from None
    try:
        return json.loads(response.body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (ValueError, RecursionError):
        raise _invalid("json", "the body is not valid JSON") from None


def decode_error_body(response: UpstreamResponse, body_format: ResponseFormat) -> Any:
    """The body of an error response for error handlers: its format if it parses, else text.

    Error pages often come in another format than the API's answers (an HTML page from a
    proxy in front of a JSON API); handlers still get to see them.
    """
    try:
        return decode_body(response, body_format)
    except InvalidUpstreamResponse:
        return _text(response)


def _text(response: UpstreamResponse) -> str:
    try:
        return response.body.decode(_charset(response), errors="replace")
    except LookupError:  # a codec that is not a text encoding (``rot13``, ``base64``)
        return response.body.decode("utf-8", errors="replace")


def _charset(response: UpstreamResponse) -> str:
    content_type = response.header("content-type") or ""
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "charset":
            name = value.strip().strip('"')
            try:
                return codecs.lookup(name).name
            except LookupError:
                break
    return "utf-8"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # ``1e999``: valid JSON, but no number expressions can work with
        raise ValueError("a number is out of range")
    return value


def _invalid(format_name: str, problem: str) -> InvalidUpstreamResponse:
    return InvalidUpstreamResponse(
        502,
        f"The upstream's answer is not valid {format_name.upper()}",
        f"the function reads {format_name}: {problem}",
    )
