"""Builds the provider's services from their parts (``authgate.app`` supplies the parts)."""

from __future__ import annotations

from authgate.clock import Clock
from authgate.crypto.sealing import Sealer
from authgate.identity.deps import IdentityDeps
from authgate.identity.signin import Authenticator
from authgate.provider.authorize import Authorizations, ConsentLedger, SignInPolicy
from authgate.provider.browser_sessions import BrowserSessions
from authgate.provider.codes import AuthorizationCodes
from authgate.provider.id_tokens import IdTokens
from authgate.provider.logout import Logouts
from authgate.provider.pending import PendingRequests
from authgate.provider.ports import (
    AuthorizationCodeRepository,
    BrowserSessionRepository,
    PushedRequestRepository,
    SessionUsers,
)
from authgate.provider.pushed import PushedRequests
from authgate.provider.service import Clients, Provider
from authgate.tokens.access import AccessTokens
from authgate.tokens.keyring import Keyring
from authgate.tokens.sessions import SessionService


def build_provider(
    deps: IdentityDeps,
    *,
    clients: Clients,
    consents: ConsentLedger,
    codes: AuthorizationCodeRepository,
    pushed: PushedRequestRepository,
    browser_sessions: BrowserSessionRepository,
    session_users: SessionUsers,
    sessions: SessionService,
    access: AccessTokens,
    keyring: Keyring,
    authenticator: Authenticator,
    password_policy: SignInPolicy | None,
    sealer: Sealer,
    clock: Clock,
    issuer: str,
    browser_session_ttl: int,
    id_token_ttl: int,
) -> Provider:
    """The provider, wired once per process."""
    browser = BrowserSessions(deps, browser_sessions, ttl=browser_session_ttl)
    id_tokens = IdTokens(issuer=issuer, keyring=keyring, clock=clock, ttl=id_token_ttl)
    issued = AuthorizationCodes(deps, codes, sessions, browser, id_tokens)
    return Provider(
        deps=deps,
        clients=clients,
        authorizations=Authorizations(
            deps, issued, consents, issuer=issuer, password_policy=password_policy
        ),
        codes=issued,
        pushed=PushedRequests(deps, pushed),
        browser=browser,
        pending=PendingRequests(sealer, clock),
        logouts=Logouts(id_tokens, clients),
        id_tokens=id_tokens,
        access=access,
        sessions=sessions,
        authenticator=authenticator,
        session_users=session_users,
        password_policy=password_policy,
    )
