"""The token response of RFC 6749 §5.1."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class TokenResponse:
    """What the token endpoint and sign-in return."""

    access_token: str
    expires_in: int
    scope: str
    refresh_token: str | None = None
    organization: str | None = None
    id_token: str | None = None
    """OpenID Connect Core §3.1.3.3: for an authorization code whose scope holds ``openid``."""

    def as_json(self) -> dict[str, Any]:
        """The JSON body; ``token_type`` is always Bearer."""
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        if self.organization is not None:
            body["organization"] = self.organization
        if self.id_token is not None:
            body["id_token"] = self.id_token
        return body
