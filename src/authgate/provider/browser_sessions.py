"""Browser sessions at authgate's own pages (OpenID Connect Core §3.1.2.3's "End-User is
authenticated").

The cookie holds a random secret; only its keyed hash is stored. A session lets the next
authorization skip the sign-in, unless ``prompt=login`` or ``max_age`` asks for a fresh one;
it ends at RP-initiated logout, when it expires, or when the person is disabled.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from authgate.crypto.randomness import new_id, new_secret
from authgate.identity.deps import IdentityDeps
from authgate.identity.models import User
from authgate.identity.ports import SessionRevoker
from authgate.provider.models import BrowserSession
from authgate.provider.ports import BrowserSessionRepository

COOKIE_NAME = "authgate_session"
ACR_PASSWORD = "urn:authgate:acr:password"
ACR_SSO = "urn:authgate:acr:sso"
ACR_VALUES = (ACR_PASSWORD, ACR_SSO)
MAX_COOKIE_CHARS = 128


class BrowserSessions:
    """Starts, finds and ends browser sessions."""

    def __init__(
        self, deps: IdentityDeps, repository: BrowserSessionRepository, *, ttl: int
    ) -> None:
        self._deps = deps
        self._repository = repository
        self.ttl = ttl

    async def start(
        self, user: User, *, acr: str, amr: tuple[str, ...], idp_id: str | None = None
    ) -> tuple[BrowserSession, str]:
        """A new session for a person who just signed in, and the cookie's secret."""
        secret = new_secret()
        now = self._deps.now()
        session = BrowserSession(
            id=new_id(),
            secret_hash=self._deps.keyed.digest(secret),
            user_id=user.id,
            auth_time=now,
            acr=acr,
            amr=amr,
            idp_id=idp_id,
            created_at=now,
            expires_at=now + timedelta(seconds=self.ttl),
        )
        await self._repository.create(session)
        return session, secret

    async def current(self, secret: str | None) -> BrowserSession | None:
        """The live session the cookie names, if any."""
        if not secret or len(secret) > MAX_COOKIE_CHARS or not secret.isascii():
            return None
        session = await self._repository.find(self._deps.keyed.digest(secret))
        if session is None or not session.is_live(self._deps.now()):
            return None
        return session

    async def get(self, session_id: str) -> BrowserSession | None:
        """A session by id (an ID token's ``sid``), live or not."""
        return await self._repository.get(session_id)

    async def link(self, session_id: str, family_id: str) -> None:
        """Record an app session that this browser session started."""
        await self._repository.link(session_id, family_id)

    async def end(self, session_id: str) -> int:
        """End the session and the app sessions it started; how many of those ended."""
        return await self._repository.end(session_id, self._deps.now())


class EndingBrowserSessionsToo:
    """A :class:`authgate.identity.ports.SessionRevoker` that, when every session of a person
    ends (password change or reset, disable), also ends their browser sessions, so that
    nobody keeps signing in to apps with a sign-in from before."""

    def __init__(self, families: SessionRevoker, browsers: BrowserSessionRepository) -> None:
        self._families = families
        self._browsers = browsers

    async def revoke_for_user(
        self,
        user_id: str,
        reason: str,
        at: datetime,
        *,
        org_id: str | None = None,
        except_family: str | None = None,
    ) -> int:
        """Revoke the person's sessions; with no ``org_id``, their browser sessions too."""
        revoked = await self._families.revoke_for_user(
            user_id, reason, at, org_id=org_id, except_family=except_family
        )
        if org_id is None:
            await self._browsers.end_for_user(user_id, at)
        return revoked
