"""The claims about a person that a scope releases (OpenID Connect Core §5.1, §5.4).

``sub`` always; ``profile`` adds ``name`` and ``updated_at``-free basics; ``email`` adds
``email`` and ``email_verified``. The same claims go into the ID token and the userinfo
answer, so an app sees one picture of the person.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from authgate.identity.models import User

SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": ("name", "preferred_username"),
    "email": ("email", "email_verified"),
}
"""The claims each scope releases."""


def user_claims(user: User, scopes: Collection[str]) -> dict[str, Any]:
    """``sub`` and the claims ``scopes`` release about ``user``."""
    claims: dict[str, Any] = {"sub": user.id}
    if "profile" in scopes:
        claims["name"] = user.display_name or user.email.split("@", 1)[0]
        claims["preferred_username"] = user.email
    if "email" in scopes:
        claims["email"] = user.email
        claims["email_verified"] = user.email_verified
    return claims


def supported_claims() -> list[str]:
    """Every claim authgate can release, for the discovery document."""
    names = ["sub", *(claim for claims in SCOPE_CLAIMS.values() for claim in claims)]
    return [*names, "auth_time", "acr", "amr", "nonce", "at_hash", "sid", "azp"]
