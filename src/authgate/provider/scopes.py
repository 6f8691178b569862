"""The scopes an app may ask for, and how the consent page describes them."""

from __future__ import annotations

SUPPORTED_SCOPES = ("openid", "profile", "email", "offline_access")
"""Every scope authgate grants to registered apps."""

SCOPE_DESCRIPTIONS: dict[str, str] = {
    "openid": "Know who you are (your authgate user id)",
    "profile": "See your name",
    "email": "See your email address and whether it is verified",
    "offline_access": "Stay signed in and act for you while you are away",
}
"""What the consent page says each scope allows."""
