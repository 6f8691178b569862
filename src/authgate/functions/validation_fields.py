"""Typed reads of one YAML mapping of a definition file, each failure a located problem.

A :class:`Fields` wraps a mapping together with the file it came from and its key path;
reading a key checks its type and records a problem naming the file, the key and the line
when the value does not fit. Readers return ``None`` on a problem, so one pass over a file
collects every problem in it.
"""

from __future__ import annotations

from collections.abc import Iterator

from authgate.functions.expressions import check_expression
from authgate.functions.model import EXPRESSION_PREFIX, is_expression
from authgate.functions.validation import Findings, child_key
from authgate.functions.yaml_source import YMap, YNode, YScalar, YSeq, to_plain

_KIND = {YScalar: "a single value", YMap: "a mapping (key: value lines)", YSeq: "a list"}


def kind_of(node: YNode) -> str:
    """How a problem describes what was found instead."""
    if isinstance(node, YScalar):
        value = node.value
        if value is None:
            return "nothing"
        if isinstance(value, bool):
            return "true/false"
        if isinstance(value, int | float):
            return "a number"
        return "text"
    return _KIND[type(node)]


class Fields:
    """One mapping of a file, read key by key."""

    def __init__(
        self,
        findings: Findings,
        file: str,
        key: str | None,
        node: YMap,
        key_line: int | None = None,
    ) -> None:
        self.findings = findings
        self.file = file
        self.key = key
        self.node = node
        self.key_line = node.line if key_line is None else key_line

    @property
    def line(self) -> int:
        """The line naming this mapping (its key's line; the first line for a whole file)."""
        return self.key_line

    def path(self, name: str | int) -> str:
        """The dotted key of ``name`` inside this mapping."""
        return child_key(self.key, name)

    def line_of(self, name: str) -> int:
        """The line of ``name``'s value (or of the mapping, when the key is absent)."""
        entry = self.node.entries.get(name)
        return self.line if entry is None else entry.value.line

    def line_at(self, *names: str) -> int:
        """The line of the value at a nested key path, or of the deepest mapping found."""
        node: YNode = self.node
        for name in names:
            if not isinstance(node, YMap) or name not in node.entries:
                break
            node = node.entries[name].value
        return node.line

    def has(self, name: str) -> bool:
        """Whether the key is present (even with an empty value)."""
        return name in self.node.entries

    def problem(self, name: str | None, text: str, line: int | None = None) -> None:
        """Record a problem at ``name`` (or at this mapping when ``name`` is ``None``)."""
        key = self.key if name is None else self.path(name)
        if line is None:
            line = self.line if name is None else self.line_of(name)
        self.findings.problem(self.file, key, line, text)

    def warn(self, name: str, text: str) -> None:
        """Record a warning at ``name``."""
        entry = self.node.entries.get(name)
        line = self.line if entry is None else entry.key_line
        self.findings.warn(self.file, self.path(name), line, text)

    def check_keys(self, allowed: frozenset[str], not_implemented: frozenset[str]) -> None:
        """Unknown keys are problems; keys of Jigx that authgate does not run yet, warnings."""
        for name, entry in self.node.entries.items():
            if name in allowed:
                continue
            if name in not_implemented:
                self.warn(name, f"'{name}' is a Jigx feature authgate does not run yet; ignored")
                continue
            expected = ", ".join(sorted(allowed))
            self.findings.problem(
                self.file,
                self.path(name),
                entry.key_line,
                f"unknown key '{name[:64]}'; expected one of: {expected}",
            )

    def value(self, name: str) -> YNode | None:
        """The raw node of ``name``, ``None`` when absent."""
        entry = self.node.entries.get(name)
        return None if entry is None else entry.value

    def plain(self, name: str) -> object:
        """The value of ``name`` as plain data (``None`` when absent)."""
        node = self.value(name)
        return None if node is None else to_plain(node)

    def text(self, name: str, *, required: bool = False, empty_ok: bool = False) -> str | None:
        """A text value."""
        node = self.value(name)
        if node is None or (isinstance(node, YScalar) and node.value is None):
            if required:
                self.problem(name, f"'{name}' is required")
            return None
        if not isinstance(node, YScalar) or not isinstance(node.value, str):
            self.problem(name, f"'{name}' must be text, not {kind_of(node)}")
            return None
        if not empty_ok and not node.value.strip():
            self.problem(name, f"'{name}' must not be empty")
            return None
        return node.value

    def boolean(self, name: str) -> bool | None:
        """A true/false value."""
        node = self.value(name)
        if node is None or (isinstance(node, YScalar) and node.value is None):
            return None
        if not isinstance(node, YScalar) or not isinstance(node.value, bool):
            self.problem(name, f"'{name}' must be true or false, not {kind_of(node)}")
            return None
        return node.value

    def integer(self, name: str, *, low: int, high: int) -> int | None:
        """A whole number within ``low``..``high``."""
        node = self.value(name)
        if node is None or (isinstance(node, YScalar) and node.value is None):
            return None
        value = node.value if isinstance(node, YScalar) else None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(name, f"'{name}' must be a whole number, not {kind_of(node)}")
            return None
        if not low <= value <= high:
            self.problem(name, f"'{name}' must be between {low} and {high}")
            return None
        return value

    def mapping(self, name: str) -> Fields | None:
        """A nested mapping, ``None`` when absent or not a mapping."""
        node = self.value(name)
        if node is None or (isinstance(node, YScalar) and node.value is None):
            return None
        if not isinstance(node, YMap):
            self.problem(
                name, f"'{name}' must be a mapping (key: value lines), not {kind_of(node)}"
            )
            return None
        return Fields(
            self.findings, self.file, self.path(name), node, self.node.entries[name].key_line
        )

    def sequence(self, name: str) -> Iterator[tuple[str, YNode]]:
        """The items of a list, each with its key (``name[i]``)."""
        node = self.value(name)
        if node is None or (isinstance(node, YScalar) and node.value is None):
            return
        if not isinstance(node, YSeq):
            self.problem(
                name, f"'{name}' must be a list (lines starting with '-'), not {kind_of(node)}"
            )
            return
        for index, item in enumerate(node.items):  # items have no key line: theirs is theirs
            yield child_key(self.path(name), index), item

    def expression(self, name: str, *, required: bool = False) -> str | None:
        """A JSONata expression that must start with ``=``."""
        text = self.text(name, required=required)
        if text is None:
            return None
        if not is_expression(text):
            self.problem(name, f"'{name}' must be an expression starting with '='")
            return None
        self.check_expression(name, text)
        return text

    def transform(self, name: str) -> str | None:
        """A transform: Jigx writes these with or without the leading ``=``; keep it with."""
        text = self.text(name)
        if text is None:
            return None
        if not is_expression(text):
            text = EXPRESSION_PREFIX + text
        self.check_expression(name, text)
        return text

    def check_expression(self, name: str, text: str) -> None:
        """Syntax-check an expression value, when the expression compiler is available."""
        problem = expression_problem(text)
        if problem is not None:
            self.problem(name, problem)


def expression_problem(text: str) -> str | None:
    """Why ``text`` (an ``=``-prefixed expression) does not compile, or ``None``."""
    return check_expression(text)
