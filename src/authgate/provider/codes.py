"""Authorization codes: issued at the end of an authorization, exchanged at the token
endpoint (RFC 6749 §4.1.2, §4.1.3; RFC 7636 §4.6; OpenID Connect Core §3.1.3).

A code is random, stored as a keyed hash, lives ``ttl`` seconds (60 by default) and is
bound to its client, its redirect URI and its PKCE challenge. Spending it is atomic; a second
presentation is refused and revokes the session the first one started (RFC 6749 §4.1.2).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import replace
from datetime import timedelta

from authgate.crypto.randomness import new_id, new_secret
from authgate.errors import InvalidGrant
from authgate.identity.deps import Actor, IdentityDeps
from authgate.provider.authorization import AuthorizationRequest
from authgate.provider.browser_sessions import BrowserSessions
from authgate.provider.id_tokens import Authentication, IdTokens
from authgate.provider.models import AuthorizationCode, BrowserSession, GrantType, OAuthClient
from authgate.provider.ports import AuthorizationCodeRepository
from authgate.tokens.responses import TokenResponse
from authgate.tokens.scopes import parse_scope
from authgate.tokens.sessions import SessionService
from authgate.vault.connections import pkce_challenge

DEFAULT_TTL = 60
INVALID_CODE = "the authorization code is invalid, expired or already used"
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")


class AuthorizationCodes:
    """Issues codes and exchanges them for tokens."""

    def __init__(
        self,
        deps: IdentityDeps,
        codes: AuthorizationCodeRepository,
        sessions: SessionService,
        browser: BrowserSessions,
        id_tokens: IdTokens,
        *,
        ttl: int = DEFAULT_TTL,
    ) -> None:
        self._deps = deps
        self._codes = codes
        self._sessions = sessions
        self._browser = browser
        self._id_tokens = id_tokens
        self._ttl = timedelta(seconds=ttl)

    async def issue(
        self, request: AuthorizationRequest, session: BrowserSession, org_id: str
    ) -> str:
        """A new code for a request the person allowed."""
        code = new_secret()
        now = self._deps.now()
        await self._codes.add(
            AuthorizationCode(
                code_hash=self._digest(code),
                client_id=request.client_id,
                redirect_uri=request.redirect_uri if request.redirect_uri_given else "",
                user_id=session.user_id,
                org_id=org_id,
                scope=request.scope,
                nonce=request.nonce,
                code_challenge=request.code_challenge,
                auth_time=session.auth_time,
                acr=session.acr,
                amr=session.amr,
                browser_session_id=session.id,
                idp_id=session.idp_id,
                created_at=now,
                expires_at=now + self._ttl,
            )
        )
        return code

    async def exchange(
        self,
        client: OAuthClient,
        code: str | None,
        redirect_uri: str | None,
        code_verifier: str | None,
        actor: Actor,
    ) -> TokenResponse:
        """Tokens for a code (the client is already authenticated)."""
        if not code or len(code) > 256:
            raise InvalidGrant(INVALID_CODE)
        code_hash = self._digest(code)
        session_id = new_id()
        found = await self._codes.spend(code_hash, self._deps.now(), session_id)
        if found is None:
            await self._replayed(code_hash, actor)
            raise InvalidGrant(INVALID_CODE)
        if found.client_id != client.client_id:
            raise InvalidGrant("the authorization code was issued to another client")
        if (redirect_uri or "") != found.redirect_uri:
            raise InvalidGrant(
                "redirect_uri must be the one the authorization request sent (or absent if "
                "it sent none)"
            )
        _check_verifier(found.code_challenge, code_verifier)
        member = await self._deps.store.memberships.active_member(found.org_id, found.user_id)
        if member is None:  # disabled, removed or DENY since the code was issued
            raise InvalidGrant(INVALID_CODE)
        user, role = member
        tokens = await self._sessions.start_in(
            user, found.org_id, role, actor,
            client_id=client.client_id, scope=found.scope, idp_id=found.idp_id,
            session_id=session_id,
        )  # fmt: skip
        await self._browser.link(found.browser_session_id, session_id)
        scopes = parse_scope(found.scope)
        id_token = None
        if "openid" in scopes:
            id_token = self._id_tokens.issue(
                client_id=client.client_id,
                algorithm=client.id_token_signed_response_alg,
                user=user,
                scopes=scopes,
                authentication=Authentication(
                    found.auth_time, found.acr, found.amr, found.browser_session_id
                ),
                nonce=found.nonce,
                access_token=tokens.access_token,
            )
        refresh = tokens.refresh_token if _offers_refresh(client) else None
        return replace(tokens, refresh_token=refresh, organization=None, id_token=id_token)

    def _digest(self, code: str) -> str:
        return self._deps.keyed.digest(f"oauth code\x00{code}")

    async def _replayed(self, code_hash: str, actor: Actor) -> None:
        spent = await self._codes.get(code_hash)
        if spent is None or spent.used_at is None or spent.session_id is None:
            return
        await self._sessions.end(spent.session_id, actor, "code reused")
        await self._deps.audit(
            "oauth.code_reuse",
            actor,
            org_id=spent.org_id,
            subject=spent.user_id,
            outcome="failure",
            client_id=spent.client_id,
        )


def _check_verifier(challenge: str | None, verifier: str | None) -> None:
    if challenge is None:
        if verifier is not None:
            # RFC 9700 §2.1.1: a verifier for a code issued without a challenge is a downgrade.
            raise InvalidGrant("code_verifier was sent, but the authorization request had no PKCE")
        return
    if verifier is None or not _VERIFIER.fullmatch(verifier):
        raise InvalidGrant("code_verifier is required: 43-128 characters of [A-Za-z0-9._~-]")
    if not hmac.compare_digest(pkce_challenge(verifier), challenge):
        raise InvalidGrant("code_verifier does not match the code_challenge (PKCE)")


def _offers_refresh(client: OAuthClient) -> bool:
    return client.allows(GrantType.REFRESH_TOKEN)
