"""The scopes an app may ask for, and how the consent page describes them."""

from __future__ import annotations

from collections.abc import Iterable

SUPPORTED_SCOPES = ("openid", "profile", "email", "offline_access")
"""Every scope authgate grants to registered apps."""

SCOPE_DESCRIPTIONS: dict[str, str] = {
    "openid": "Know who you are (your authgate user id)",
    "profile": "See your name",
    "email": "See your email address and whether it is verified",
    "offline_access": "Stay signed in and act for you while you are away",
}
"""What the consent page says each scope allows."""


def unsupported_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes of ``scopes`` that authgate does not grant, in their order (empty when a
    client may be allowed every one of them)."""
    return [scope for scope in scopes if scope not in SCOPE_DESCRIPTIONS]


def default_scopes(offline: bool) -> tuple[str, ...]:
    """The scopes a client is allowed when its registration names none: the OpenID Connect
    ones, and ``offline_access`` only for a client that may use refresh tokens."""
    return SUPPORTED_SCOPES if offline else SUPPORTED_SCOPES[:3]
