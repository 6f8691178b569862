"""Token introspection (RFC 7662) for the organization's service clients and apps.

A service client learns about tokens of its own organization only, a registered app about
the tokens issued to it only; for any other token, and for any token that is not valid right
now, the answer is ``{"active": false}`` and nothing more.
"""

from __future__ import annotations

from typing import Any, Protocol

from authgate.errors import InvalidToken
from authgate.identity.deps import IdentityDeps
from authgate.tokens.access import AccessClaims, AccessTokens
from authgate.tokens.ports import RefreshTokenRepository

INACTIVE: dict[str, Any] = {"active": False}


class Caller(Protocol):
    """Who asks: a service client or a registered app."""

    @property
    def client_id(self) -> str:
        """The caller's client id."""

    @property
    def org_id(self) -> str:
        """The caller's organization."""


class Introspector:
    """Answers RFC 7662 §2.2 responses."""

    def __init__(
        self, deps: IdentityDeps, access: AccessTokens, refresh_tokens: RefreshTokenRepository
    ) -> None:
        self._deps = deps
        self._access = access
        self._refresh_tokens = refresh_tokens

    async def introspect(
        self, token: str, caller: Caller, hint: str | None = None, *, own_only: bool = False
    ) -> dict[str, Any]:
        """The token's metadata when active and of the caller's organization (with
        ``own_only``, only when it was issued to the caller itself)."""
        if hint == "refresh_token":
            answer = await self._refresh(token, caller) or await self._access_token(token, caller)
        else:
            answer = await self._access_token(token, caller) or await self._refresh(token, caller)
        if own_only and answer and answer.get("client_id") != caller.client_id:
            return {}
        return answer

    async def _access_token(self, token: str, caller: Caller) -> dict[str, Any]:
        try:
            claims = await self._access.verify_current(token)
        except InvalidToken:
            return {}
        if claims.org_id != caller.org_id or not await self._still_valid(claims):
            return INACTIVE
        return {
            "active": True,
            "token_type": "access_token",
            "scope": claims.scope,
            "client_id": claims.client_id,
            "sub": claims.subject,
            "exp": claims.expires_at,
            "iat": claims.issued_at,
            "iss": self._access.issuer,
            "aud": self._access.audience,
            "jti": claims.token_id,
            "org": claims.org_id,
            "roles": list(claims.roles),
            **({"sid": claims.session_id} if claims.session_id else {}),
        }

    async def _still_valid(self, claims: AccessClaims) -> bool:
        if claims.session_id is None:
            return True
        family = await self._refresh_tokens.get_family(claims.session_id)
        if family is None or family.is_revoked:
            return False
        role = await self._deps.store.memberships.active_role(claims.org_id, claims.subject)
        return role is not None

    async def _refresh(self, token: str, caller: Caller) -> dict[str, Any]:
        found = await self._refresh_tokens.find(self._deps.keyed.digest(token))
        if found is None:
            return {}
        family, refresh = found
        now = self._deps.now()
        if (
            family.org_id != caller.org_id
            or family.is_revoked
            or refresh.used_at is not None
            or refresh.expires_at <= now
            or family.expires_at <= now
        ):
            return INACTIVE
        return {
            "active": True,
            "token_type": "refresh_token",
            "scope": family.scope,
            "client_id": family.client_id,
            "sub": family.user_id,
            "exp": int(refresh.expires_at.timestamp()),
            "iat": int(refresh.created_at.timestamp()),
            "iss": self._access.issuer,
            "org": family.org_id,
            "sid": family.id,
        }
