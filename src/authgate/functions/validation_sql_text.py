"""What a SQL function's query says about itself: its ``@Name`` placeholders and statements.

A small lexer, not a parser: it knows where string literals (``'…'`` with ``''`` escapes),
quoted identifiers (``"…"``, ``[…]``, ```…```), dollar-quoted bodies (``$tag$…$tag$``) and
comments (``--`` to the end of the line, ``/* … */`` nested) begin and end, so that an ``@``
or a ``;`` inside one of them is not taken for a placeholder or a statement separator.
``@@name`` is a system variable (T-SQL), never a placeholder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")
_CLOSERS = {"'": "'", '"': '"', "[": "]", "`": "`"}
_WHAT = {"'": "string literal", '"': "quoted identifier", "[": "[identifier]", "`": "`identifier`"}


@dataclass(frozen=True, slots=True)
class SqlScan:
    """Placeholders in first-use order, whether more than one statement is present, and
    the first lexical problem (an unterminated literal or comment), if any."""

    placeholders: tuple[str, ...]
    several_statements: bool
    empty: bool
    problem: str | None


def scan_sql(text: str) -> SqlScan:
    """Scan ``text`` for placeholders and statement separators."""
    return _Scanner(text).run()


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0
        self.placeholders: dict[str, None] = {}
        self.after_separator = False
        self.several = False
        self.significant = False

    def run(self) -> SqlScan:
        problem = None
        try:
            self._scan()
        except _Unterminated as error:
            problem = f"the query has an unterminated {error.what}"
        return SqlScan(tuple(self.placeholders), self.several, not self.significant, problem)

    def _content(self) -> None:
        # Something other than blanks, comments and separators: a new statement starts
        # when it follows a separator.
        if self.after_separator:
            self.several = True
        self.significant = True

    def _scan(self) -> None:
        text = self.text
        while self.at < len(text):
            char = text[self.at]
            pair = text[self.at : self.at + 2]
            if pair == "--":
                end = text.find("\n", self.at)
                self.at = len(text) if end < 0 else end + 1
            elif pair == "/*":
                self._block_comment()
            elif char in _CLOSERS:
                self._content()
                self._quoted(char)
            elif char == "$" and (tag := _DOLLAR_TAG.match(text, self.at)) is not None:
                self._content()
                end = text.find(tag.group(), tag.end())
                if end < 0:
                    raise _Unterminated("dollar-quoted string")
                self.at = end + len(tag.group())
            elif char == ";":
                self.after_separator = True
                self.at += 1
            elif char.isspace():
                self.at += 1
            else:
                self._content()
                self._word(char)

    def _word(self, char: str) -> None:
        text = self.text
        if char == "@":
            if text.startswith("@@", self.at):
                name = _NAME.match(text, self.at + 2)
                self.at = self.at + 2 if name is None else name.end()
                return
            name = _NAME.match(text, self.at + 1)
            if name is not None:
                self.placeholders.setdefault(name.group())
                self.at = name.end()
                return
        self.at += 1

    def _quoted(self, opener: str) -> None:
        closer = _CLOSERS[opener]
        text = self.text
        at = self.at + 1
        while True:
            end = text.find(closer, at)
            if end < 0:
                raise _Unterminated(_WHAT[opener])
            if text.startswith(closer * 2, end):
                at = end + 2  # a doubled closer is an escaped one
                continue
            self.at = end + 1
            return

    def _block_comment(self) -> None:
        text = self.text
        depth = 0
        at = self.at
        while at < len(text):
            pair = text[at : at + 2]
            if pair == "/*":
                depth += 1
                at += 2
            elif pair == "*/":
                depth -= 1
                at += 2
                if depth == 0:
                    self.at = at
                    return
            else:
                at += 1
        raise _Unterminated("/* comment")


class _Unterminated(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what
