"""XML response bodies read safely into a JSON-like value for expressions.

Safety: a document type declaration is refused outright, so there is no DTD, no entity
declaration (no "billion laughs"), no external entity or parameter entity, and nothing is ever
fetched; only the five predefined entities and character references are expanded. Nesting is
bounded. The parser is expat without namespace processing.

Shape (the convention of xmltodict, which JSONata authors tend to know):

* the document is ``{root_tag: element}``; tags keep their prefix (``"soap:Envelope"``);
* an element with neither attributes nor child elements is its text, or ``None`` when empty
  or blank;
* otherwise an object: ``"@name"`` per attribute, one key per child tag (a list, in document
  order, when the tag repeats), and ``"#text"`` for its text when that is not blank.

A tag that occurs once is a value and twice a list: expressions that must accept both can use
JSONata's array constructor (``[$.orders.order]``).
"""

from __future__ import annotations

from typing import Any
from xml.parsers import expat

MAX_DEPTH = 256


class XmlRefused(ValueError):
    """The body is not well-formed XML, declares a DTD, or nests too deeply."""


class _Element:
    __slots__ = ("attributes", "children", "tag", "text")

    def __init__(self, tag: str, attributes: dict[str, str]) -> None:
        self.tag = tag
        self.attributes = attributes
        self.children: list[tuple[str, Any]] = []
        self.text: list[str] = []

    def value(self) -> Any:
        text = "".join(self.text)
        if not self.attributes and not self.children:
            return text if text.strip() else None
        result: dict[str, Any] = {f"@{name}": value for name, value in self.attributes.items()}
        for tag, child in self.children:
            if tag not in result:
                result[tag] = child
            elif isinstance(result[tag], _Repeated):
                result[tag].append(child)
            else:
                result[tag] = _Repeated([result[tag], child])
        if text.strip():
            result["#text"] = text
        return {key: list(v) if isinstance(v, _Repeated) else v for key, v in result.items()}


class _Repeated(list[Any]):
    """A child tag seen more than once (kept apart from a child whose value is a list)."""


def parse_xml(body: bytes) -> dict[str, Any]:
    """The JSON-like value of an XML document; raises :class:`XmlRefused`."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[_Element] = []
    root: dict[str, Any] = {}

    def refuse_dtd(*_args: Any) -> None:
        raise XmlRefused("a document type declaration is not accepted")

    def start(tag: str, attributes: dict[str, str]) -> None:
        if len(stack) >= MAX_DEPTH:
            raise XmlRefused(f"elements nest deeper than {MAX_DEPTH} levels")
        stack.append(_Element(tag, attributes))

    def end(_tag: str) -> None:
        element = stack.pop()
        if stack:
            stack[-1].children.append((element.tag, element.value()))
        else:
            root[element.tag] = element.value()

    def text(data: str) -> None:
        if stack:
            stack[-1].text.append(data)

    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.ExternalEntityRefHandler = refuse_dtd  # type: ignore[assignment]
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        # Only expat's code and position: its message can quote nothing of the body, but the
        # code is all a function author needs.
        raise XmlRefused(
            f"not well-formed XML ({expat.ErrorString(exc.code)} at line {exc.lineno})"
        ) from None
    if not root:
        raise XmlRefused("the document has no root element")
    return root
