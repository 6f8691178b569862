"""Everything the provider's endpoints need, built once in ``authgate.app``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from authgate.errors import AuthgateError, InsufficientScope, InvalidToken
from authgate.identity.deps import Actor, IdentityDeps
from authgate.identity.models import User
from authgate.identity.signin import Authenticator
from authgate.provider.authorize import Authorizations
from authgate.provider.browser_sessions import ACR_PASSWORD, ACR_SSO, BrowserSessions
from authgate.provider.claims import user_claims
from authgate.provider.codes import AuthorizationCodes
from authgate.provider.errors import UnauthorizedClient
from authgate.provider.id_tokens import IdTokens
from authgate.provider.logout import Logouts
from authgate.provider.models import BrowserSession, GrantType, OAuthClient
from authgate.provider.pending import PendingRequests
from authgate.provider.ports import SessionUsers
from authgate.provider.pushed import PushedRequests
from authgate.tokens.access import AccessClaims, AccessTokens
from authgate.tokens.ports import PasswordSignInPolicy
from authgate.tokens.responses import TokenResponse
from authgate.tokens.scopes import format_scope, narrow, parse_scope
from authgate.tokens.sessions import SessionService

PROVIDER_SSO_CLIENT = "authgate-provider"
"""The client id under which authgate's own sign-in page starts brokered SSO logins."""
SSO_RETURN_PATH = "/oauth/signin/sso/return"
"""Where a brokered SSO login started from the sign-in page comes back to."""


class Clients(Protocol):
    """The registered clients, as the endpoints use them."""

    async def find(self, client_id: str) -> OAuthClient | None:
        """An enabled client by id, or None."""

    async def authenticate(self, client_id: str | None, secret: str | None) -> OAuthClient:
        """The client, if its credentials are right (InvalidClient otherwise)."""


@dataclass(frozen=True, slots=True)
class Provider:
    """The OAuth 2.0 / OpenID provider's services."""

    deps: IdentityDeps
    clients: Clients
    authorizations: Authorizations
    codes: AuthorizationCodes
    pushed: PushedRequests
    browser: BrowserSessions
    pending: PendingRequests
    logouts: Logouts
    id_tokens: IdTokens
    access: AccessTokens
    sessions: SessionService
    authenticator: Authenticator
    session_users: SessionUsers
    password_policy: PasswordSignInPolicy | None = None

    async def sign_in_with_password(
        self, client: OAuthClient, email: str, password: str, actor: Actor
    ) -> tuple[BrowserSession, str]:
        """Check the password (throttled, the same answer for unknown users), and that the
        app's organization accepts password sign-in; a browser session and its secret."""
        user = await self.authenticator.authenticate(email, password, actor)
        if self.password_policy is not None:
            await self.password_policy.check_password_sign_in(client.org_id)
        started = await self.browser.start(user, acr=ACR_PASSWORD, amr=("pwd",))
        await self._audit_sign_in(user, started[0], client, actor)
        return started

    async def password_allowed(self, client: OAuthClient) -> bool:
        """Whether the app's organization lets its members sign in with a password."""
        if self.password_policy is None:
            return True
        try:
            await self.password_policy.check_password_sign_in(client.org_id)
        except AuthgateError:
            return False
        return True

    async def sign_in_federated(
        self, user: User, idp_id: str, client: OAuthClient, actor: Actor
    ) -> tuple[BrowserSession, str]:
        """A browser session for a person the organization's IdP vouched for."""
        started = await self.browser.start(user, acr=ACR_SSO, amr=("fed",), idp_id=idp_id)
        await self._audit_sign_in(user, started[0], client, actor, idp_id=idp_id)
        return started

    async def _audit_sign_in(
        self,
        user: User,
        session: BrowserSession,
        client: OAuthClient,
        actor: Actor,
        **via: str,
    ) -> None:
        await self.deps.audit(
            "web.signin",
            Actor(user.id, actor.ip),
            org_id=client.org_id,
            subject=session.id,
            client_id=client.client_id,
            **via,
        )

    async def client_credentials(self, client: OAuthClient, scope: str | None) -> TokenResponse:
        """RFC 6749 §4.4: an access token for the client itself, in its organization."""
        if not client.allows(GrantType.CLIENT_CREDENTIALS):
            raise UnauthorizedClient("this client is not allowed the client_credentials grant")
        # A client acting for itself gets no user's scopes.
        own = set(client.scopes) - {"openid", "profile", "email", "offline_access"}
        granted = narrow(scope, format_scope(own))
        token = self.access.issue(
            subject=client.client_id,
            org_id=client.org_id,
            roles=(),
            client_id=client.client_id,
            scope=granted,
            session_id=None,
        )
        return TokenResponse(token, self.access.ttl, granted)

    async def userinfo(self, claims: AccessClaims) -> dict[str, object]:
        """OpenID Connect Core §5.3: the claims the token's scopes release, while its
        session lasts and its user is enabled (one read)."""
        scopes = parse_scope(claims.scope)
        if "openid" not in scopes or claims.session_id is None:
            raise InsufficientScope("userinfo needs a user's access token with the openid scope")
        user = await self.session_users.live_user(
            claims.session_id, claims.subject, self.deps.now()
        )
        if user is None:
            raise InvalidToken("the session of this token has ended; sign in again")
        return user_claims(user, scopes)
