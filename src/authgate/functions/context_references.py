"""``@ctx`` in an expression as written, rewritten to the bound variable ``$ctx``.

FUNCTIONS.md, "Expressions": inside an expression ``@ctx`` is the call's context, which the
evaluator sees as the variable ``$ctx``. The rewrite follows JSONata's lexical rules closely
enough to leave ``@ctx`` alone inside string literals (``"..."``, ``'...'``, with backslash
escapes), quoted names (backquotes), comments (``/* */``) and regular expressions
(``/.../flags`` where an operand is expected). It changes only the ``@`` of each reference, so
text keeps its length and error positions still point into the expression as written.
"""

from __future__ import annotations

CONTEXT_VARIABLE = "ctx"

# Characters that end a JSONata name (the evaluator's single-character operators and blanks).
_NAME_STOPS = frozenset(".[]{}(),@#;:?+-*/%|=<>^&!~ \t\r\n\"'`")
_OPERAND_CLOSERS = frozenset(")]}")
_WORD_OPERATORS = frozenset({"and", "or", "in"})


def rewrite_context_references(source: str) -> str:
    """``source`` with every ``@ctx`` outside literals and quoted names written as ``$ctx``."""
    out: list[str] = []
    i, length = 0, len(source)
    operand_before = False  # decides whether a "/" starts a regular expression
    while i < length:
        char = source[i]
        if char in " \t\r\n":
            end = i + 1
        elif source.startswith("/*", i):
            close = source.find("*/", i + 2)
            end = length if close < 0 else close + 2
        elif char in "\"'":
            end, operand_before = _string_end(source, i), True
        elif char == "`":
            close = source.find("`", i + 1)
            end, operand_before = (length if close < 0 else close + 1), True
        elif char == "/" and not operand_before:
            end, operand_before = _regex_end(source, i), True
        elif char == "@" and _is_context_reference(source, i):
            out.append("$" + CONTEXT_VARIABLE)
            i, operand_before = i + 1 + len(CONTEXT_VARIABLE), True
            continue
        elif char in _NAME_STOPS:
            end, operand_before = i + 1, char in _OPERAND_CLOSERS
        else:
            end = i
            while end < length and source[end] not in _NAME_STOPS:
                end += 1
            operand_before = source[i:end] not in _WORD_OPERATORS
        out.append(source[i:end])
        i = end
    return "".join(out)


def _is_context_reference(source: str, at: int) -> bool:
    end = at + 1 + len(CONTEXT_VARIABLE)
    return source.startswith(CONTEXT_VARIABLE, at + 1) and (
        end == len(source) or source[end] in _NAME_STOPS
    )


def _string_end(source: str, start: int) -> int:
    quote, i = source[start], start + 1
    while i < len(source):
        if source[i] == "\\":
            i += 2
            continue
        if source[i] == quote:
            return i + 1
        i += 1
    return len(source)


def _regex_end(source: str, start: int) -> int:
    """The end of a ``/pattern/flags`` literal; brackets nest as in the evaluator's tokenizer."""
    i, depth = start + 1, 0
    while i < len(source):
        char = source[i]
        if char == "\\":
            i += 2
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "/" and depth <= 0:
            i += 1
            while i < len(source) and source[i] in "im":
                i += 1
            return i
        i += 1
    return len(source)
