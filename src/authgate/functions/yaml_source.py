"""YAML read safely into a tree whose every node knows its line.

Function files are untrusted text. They are composed, never constructed: no tag runs code,
anchors and aliases are refused (so an alias bomb cannot expand), nesting and node count
are bounded, and duplicate keys are errors rather than a silent last-one-wins. Scalars keep
to what JSON can carry: strings, integers, finite floats, booleans and null (a timestamp
stays the text the author wrote).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences a file may have."""

MAX_NODES = 20_000
"""Most nodes (scalars, mappings, sequences) one file may have."""

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_TAG + name for name in ("str", "int", "float", "bool", "null"))
_TEXT_TAGS = frozenset({_TAG + "timestamp"})


class YamlSyntaxError(Exception):
    """The text is not YAML authgate accepts; ``line`` is 1-based when known."""

    def __init__(self, problem: str, line: int | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


@dataclass(frozen=True, slots=True)
class YScalar:
    """A scalar: its JSON-compatible value and its line."""

    value: str | int | float | bool | None
    line: int


@dataclass(frozen=True, slots=True)
class YEntry:
    """One key of a mapping: the key's line and the value's node."""

    key_line: int
    value: YNode


@dataclass(frozen=True, slots=True)
class YMap:
    """A mapping with text keys, in the order written."""

    entries: dict[str, YEntry]
    line: int


@dataclass(frozen=True, slots=True)
class YSeq:
    """A sequence."""

    items: tuple[YNode, ...]
    line: int


YNode = YScalar | YMap | YSeq


def to_plain(node: YNode) -> Any:
    """The node as plain JSON-compatible data (dicts, lists and scalars)."""
    if isinstance(node, YScalar):
        return node.value
    if isinstance(node, YSeq):
        return [to_plain(item) for item in node.items]
    return {key: to_plain(entry.value) for key, entry in node.entries.items()}


def parse_yaml(text: str) -> YNode | None:
    """The single document of ``text`` as a tree, ``None`` when the text holds no document.

    Raises :class:`YamlSyntaxError` for anything that is not plain, bounded YAML.
    """
    try:
        loader = _BoundedLoader(text)
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        raise YamlSyntaxError("the text has a character YAML does not allow", line) from None
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "not valid YAML"
        raise YamlSyntaxError(problem, None if mark is None else mark.line + 1) from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        raise YamlSyntaxError("the text has a character YAML does not allow", line) from None
    except yaml.YAMLError as error:
        raise YamlSyntaxError(_first_line(str(error)), None) from None
    finally:
        loader.dispose()
    if root is None:
        return None
    return _Converter().convert(root)


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "not valid YAML"


class _BoundedLoader(yaml.SafeLoader):
    """Composes nodes only, refusing anchors, aliases, deep nesting and huge documents."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
            raise YamlSyntaxError("anchors and aliases (& and *) are not supported", line)
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise YamlSyntaxError(f"the file has more than {MAX_NODES} values", line)
        if isinstance(event, ScalarEvent | CollectionStartEvent) and not _allowed_tag(event):
            raise YamlSyntaxError("explicit tags (!tag) are not supported", line)
        if not isinstance(event, CollectionStartEvent):
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise YamlSyntaxError(f"nesting is deeper than {MAX_DEPTH} levels", line)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _allowed_tag(event: ScalarEvent | CollectionStartEvent) -> bool:
    # Only the core schema's own tags, and only where the author wrote none or "!".
    tag = event.tag
    if tag is None or tag == "!":
        return True
    if isinstance(event, ScalarEvent):
        return tag in _SCALAR_TAGS
    return tag in (_TAG + "map", _TAG + "seq")


class _Converter:
    """Turns composed nodes into the located tree, collecting what does not fit."""

    def __init__(self) -> None:
        self._constructor = SafeConstructor()

    def convert(self, node: Node) -> YNode:
        line = node.start_mark.line + 1
        if isinstance(node, ScalarNode):
            return YScalar(self._scalar(node, line), line)
        if isinstance(node, SequenceNode):
            return YSeq(tuple(self.convert(item) for item in node.value), line)
        if isinstance(node, MappingNode):
            return self._mapping(node, line)
        raise YamlSyntaxError("unexpected YAML node", line)  # pragma: no cover - closed set

    def _mapping(self, node: MappingNode, line: int) -> YMap:
        entries: dict[str, YEntry] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                raise YamlSyntaxError("a mapping key must be plain text", key_line)
            if key_node.tag == _TAG + "merge":
                raise YamlSyntaxError("merge keys (<<) are not supported", key_line)
            # Keys are names: keep the text as written (so `200:` or `true:` stay text).
            key = str(key_node.value)
            if key in entries:
                raise YamlSyntaxError(
                    f"the key '{key[:64]}' appears twice (first on line {entries[key].key_line})",
                    key_line,
                )
            entries[key] = YEntry(key_line, self.convert(value_node))
        return YMap(entries, line)

    def _scalar(self, node: ScalarNode, line: int) -> str | int | float | bool | None:
        if node.tag in _TEXT_TAGS:
            return str(node.value)
        if node.tag not in _SCALAR_TAGS:
            raise YamlSyntaxError("unsupported scalar type", line)
        value = self._constructor.construct_object(node, deep=True)
        if isinstance(value, float) and not math.isfinite(value):
            raise YamlSyntaxError("numbers must be finite (no .inf or .nan)", line)
        if value is None or isinstance(value, str | int | float | bool):
            return value
        raise YamlSyntaxError("unsupported scalar type", line)  # pragma: no cover
