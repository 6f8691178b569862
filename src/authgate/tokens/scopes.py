"""Scope strings (RFC 6749 §3.3): space-delimited, order-free sets of tokens."""

from __future__ import annotations

import re

from authgate.errors import InvalidScope

DEFAULT_USER_SCOPE = "openid profile email offline_access"
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")


def parse_scope(raw: str | None) -> frozenset[str]:
    """The set of scope tokens; raises :class:`InvalidScope` on illegal characters."""
    if raw is None:
        return frozenset()
    if len(raw) > 2048:
        raise InvalidScope("scope is too long")
    tokens = raw.split()
    if any(not _SCOPE_TOKEN.match(token) for token in tokens):
        raise InvalidScope("scope holds characters RFC 6749 §3.3 does not allow")
    return frozenset(tokens)


def format_scope(scopes: frozenset[str] | set[str]) -> str:
    """A canonical (sorted) scope string."""
    return " ".join(sorted(scopes))


def narrow(requested: str | None, granted: str) -> str:
    """``requested`` if it is within ``granted`` (all of ``granted`` when absent)."""
    granted_set = parse_scope(granted)
    if requested is None or not requested.strip():
        return format_scope(granted_set)
    wanted = parse_scope(requested)
    if not wanted <= granted_set:
        raise InvalidScope("the requested scope is broader than what was granted")
    return format_scope(wanted)
