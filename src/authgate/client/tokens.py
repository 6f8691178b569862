"""The device's session: its tokens, when they go stale, and who they belong to."""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from authgate.client.errors import ServerError

REFRESH_MARGIN = 30.0
"""Refresh this many seconds before the access token expires."""


@dataclass(frozen=True, slots=True)
class TokenSet:
    """An access token, the refresh token that renews it, and when the access token ends."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: float
    scope: str = ""
    organization: str | None = None

    @classmethod
    def from_response(cls, body: Any, *, now: float | None = None) -> TokenSet:
        """From an RFC 6749 §5.1 token response."""
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise ServerError("invalid_response", 502, "the server's token response is not one")
        issued = time.time() if now is None else now
        return cls(
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token"),
            expires_at=issued + float(body.get("expires_in", 0)),
            scope=str(body.get("scope", "")),
            organization=body.get("organization"),
        )

    def stale(self, now: float | None = None) -> bool:
        """Whether the access token is (about to be) expired."""
        return (time.time() if now is None else now) >= self.expires_at - REFRESH_MARGIN

    def to_json(self) -> str:
        """For the keychain."""
        return orjson.dumps(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_at": self.expires_at,
                "scope": self.scope,
                "organization": self.organization,
            }
        ).decode()

    @classmethod
    def from_json(cls, text: str) -> TokenSet:
        """As :meth:`to_json` wrote it."""
        data = orjson.loads(text)
        return cls(
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token"),
            expires_at=float(data["expires_at"]),
            scope=data.get("scope", ""),
            organization=data.get("organization"),
        )

    def claims(self) -> dict[str, Any]:
        """The access token's claims, read without verifying (the server verifies them);
        the device uses them only to know its own user and organization ids."""
        try:
            payload = self.access_token.split(".")[1]
            padded = payload + "=" * (-len(payload) % 4)
            claims = orjson.loads(base64.urlsafe_b64decode(padded))
        except (IndexError, ValueError, binascii.Error, orjson.JSONDecodeError):
            return {}
        return claims if isinstance(claims, dict) else {}
