"""What a SQL function's query says about itself: its ``@Name`` placeholders and statements.

A small lexer, not a parser: it knows where string literals (``'…'`` with ``''`` escapes),
quoted identifiers (``"…"``, ``[…]``, ```…```), dollar-quoted bodies (``$tag$…$tag$``) and
comments (``--`` to the end of the line, ``/* … */`` nested) begin and end, so that an ``@``
or a ``;`` inside one of them is not taken for a placeholder or a statement separator.
``@@name`` is a system variable (T-SQL), never a placeholder.

Publishing does not know the database yet, so it scans with :data:`GENERIC` rules. When a
call runs, the engine is known and the query is scanned again with that engine's rules
(:data:`LEXICAL_RULES`): MySQL's backslash escapes and ``#`` comments, PostgreSQL's
``E'…'`` strings, which databases nest comments. Placeholders are translated from that scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")
_WHAT = {"'": "string literal", '"': "quoted identifier", "[": "[identifier]", "`": "`identifier`"}


@dataclass(frozen=True, slots=True)
class LexicalRules:
    """How one SQL dialect writes literals, identifiers and comments."""

    quotes: str = "'\"[`"
    """Characters that open a quoted string or identifier (``[`` closes with ``]``)."""
    backslash_escapes: bool = False
    """A backslash escapes the next character inside ``'…'`` and ``"…"`` (MySQL)."""
    hash_comments: bool = False
    """``#`` starts a comment to the end of the line (MySQL)."""
    dash_comment_needs_space: bool = False
    """``--`` starts a comment only when a blank or control character follows (MySQL)."""
    dollar_quotes: bool = True
    """``$tag$…$tag$`` bodies (PostgreSQL)."""
    escape_strings: bool = False
    """``E'…'`` strings with backslash escapes (PostgreSQL)."""
    nested_comments: bool = True
    """``/* /* */ */`` nests (PostgreSQL, T-SQL)."""


GENERIC = LexicalRules()
"""Publish-time rules: every common quoting style, nested comments, dollar quotes."""


@dataclass(frozen=True, slots=True)
class Placeholder:
    """One ``@Name`` in the text: ``text[start:end] == "@" + name``."""

    name: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class SqlScan:
    """Placeholders in first-use order, whether more than one statement is present, and
    the first lexical problem (an unterminated literal or comment), if any. ``occurrences``
    lists every placeholder where it stands, for translation."""

    placeholders: tuple[str, ...]
    several_statements: bool
    empty: bool
    problem: str | None
    occurrences: tuple[Placeholder, ...] = ()


def scan_sql(text: str, rules: LexicalRules = GENERIC) -> SqlScan:
    """Scan ``text`` for placeholders and statement separators."""
    return _Scanner(text, rules).run()


class _Scanner:
    def __init__(self, text: str, rules: LexicalRules) -> None:
        self.text = text
        self.rules = rules
        self.at = 0
        self.placeholders: dict[str, None] = {}
        self.occurrences: list[Placeholder] = []
        self.after_separator = False
        self.several = False
        self.significant = False

    def run(self) -> SqlScan:
        problem = None
        try:
            self._scan()
        except _Unterminated as error:
            problem = f"the query has an unterminated {error.what}"
        return SqlScan(
            tuple(self.placeholders),
            self.several,
            not self.significant,
            problem,
            tuple(self.occurrences),
        )

    def _content(self) -> None:
        # Something other than blanks, comments and separators: a new statement starts
        # when it follows a separator.
        if self.after_separator:
            self.several = True
        self.significant = True

    def _scan(self) -> None:
        text = self.text
        rules = self.rules
        while self.at < len(text):
            char = text[self.at]
            pair = text[self.at : self.at + 2]
            if (pair == "--" and self._dash_comment()) or (char == "#" and rules.hash_comments):
                self._line_comment()
            elif pair == "/*":
                self._block_comment()
            elif char in rules.quotes:
                self._content()
                self._quoted(char, backslash=rules.backslash_escapes and char in "'\"")
            elif rules.escape_strings and char in "eE" and self._escape_string_start():
                self._content()
                self.at += 1
                self._quoted("'", backslash=True)
            elif (
                char == "$"
                and rules.dollar_quotes
                and (tag := _DOLLAR_TAG.match(text, self.at)) is not None
            ):
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

    def _dash_comment(self) -> bool:
        if not self.rules.dash_comment_needs_space:
            return True
        following = self.text[self.at + 2 : self.at + 3]
        return following == "" or following.isspace() or ord(following) < 32

    def _escape_string_start(self) -> bool:
        # ``E'`` opens an escape string only as a token of its own, not inside a name.
        text = self.text
        if text[self.at + 1 : self.at + 2] != "'":
            return False
        before = text[self.at - 1] if self.at > 0 else " "
        return not (before.isalnum() or before in "_$")

    def _line_comment(self) -> None:
        end = self.text.find("\n", self.at)
        self.at = len(self.text) if end < 0 else end + 1

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
                self.occurrences.append(Placeholder(name.group(), self.at, name.end()))
                self.at = name.end()
                return
        elif (word := _WORD.match(text, self.at)) is not None:
            # A whole word at once: a ``$`` inside a name (PostgreSQL allows it) does not
            # open a dollar-quoted string, and an ``E`` ending a name opens no escape string.
            self.at = word.end()
            return
        self.at += 1

    def _quoted(self, opener: str, *, backslash: bool = False) -> None:
        closer = "]" if opener == "[" else opener
        text = self.text
        at = self.at + 1
        while True:
            end = text.find(closer, at)
            if backslash:
                slash = text.find("\\", at)
                if slash >= 0 and (end < 0 or slash < end):
                    at = slash + 2  # the escaped character, whatever it is
                    continue
            if end < 0:
                raise _Unterminated(_WHAT[opener])
            if text.startswith(closer * 2, end):
                at = end + 2  # a doubled closer is an escaped one
                continue
            self.at = end + 1
            return

    def _block_comment(self) -> None:
        text = self.text
        if not self.rules.nested_comments:
            end = text.find("*/", self.at + 2)
            if end < 0:
                raise _Unterminated("/* comment")
            self.at = end + 2
            return
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


_WORD = re.compile(r"[\w$]+")


class _Unterminated(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what
