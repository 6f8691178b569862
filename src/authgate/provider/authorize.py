"""The authorization endpoint's decisions (RFC 6749 §4.1, OpenID Connect Core §3.1.2).

Given a checked request and the browser session (if any), :meth:`Authorizations.decide`
answers with a redirect to the app (a code or an error, always with RFC 9207 ``iss``), or
says that the person must sign in or consent first. ``prompt=none`` never shows a page;
``prompt=login`` and ``max_age`` ask for a fresh sign-in; ``prompt=consent`` asks again even
when a remembered consent covers the scopes. Only active members of the organization that
registered the app may use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from authgate.errors import AuthgateError
from authgate.identity.deps import Actor, IdentityDeps
from authgate.provider.authorization import MAX_STATE_CHARS, AuthorizationRequest
from authgate.provider.codes import AuthorizationCodes
from authgate.provider.errors import AccessDenied, ConsentRequired, LoginRequired
from authgate.provider.models import BrowserSession, OAuthClient
from authgate.provider.redirect_uris import with_query
from authgate.tokens.ports import PasswordSignInPolicy

NOT_A_MEMBER = "you are not an active member of the organization that registered this app"


class SignInPolicy(PasswordSignInPolicy, Protocol):
    """Which earlier sign-ins an organization accepts for its apps."""

    async def accepts_federated(self, org_id: str, idp_id: str) -> bool:
        """Whether a sign-in through ``idp_id`` counts for ``org_id``."""


class ConsentLedger(Protocol):
    """What the decisions need of the remembered consents."""

    async def covers(self, user_id: str, client_id: str, scope: str) -> bool:
        """Whether the person allowed every scope of ``scope`` before."""

    async def remember(self, user_id: str, client: OAuthClient, scope: str) -> None:
        """Remember that the person allowed ``scope``."""


@dataclass(frozen=True, slots=True)
class Redirect:
    """Send the browser to the app."""

    location: str


@dataclass(frozen=True, slots=True)
class SignIn:
    """Show the sign-in page."""

    request: AuthorizationRequest


@dataclass(frozen=True, slots=True)
class Consent:
    """Show the consent page to the signed-in person."""

    request: AuthorizationRequest
    session: BrowserSession


Decision = Redirect | SignIn | Consent


class Authorizations:
    """Decides what an authorization request gets."""

    def __init__(
        self,
        deps: IdentityDeps,
        codes: AuthorizationCodes,
        consents: ConsentLedger,
        *,
        issuer: str,
        password_policy: SignInPolicy | None = None,
    ) -> None:
        self._deps = deps
        self._codes = codes
        self._consents = consents
        self._issuer = issuer
        self._password_policy = password_policy

    def answer(self, request: AuthorizationRequest, params: list[tuple[str, str]]) -> Redirect:
        """A redirect to the app with ``params``, its ``state`` and our ``iss``."""
        return self._redirect(request.redirect_uri, request.state, params)

    def error(self, request: AuthorizationRequest, error: AuthgateError) -> Redirect:
        """RFC 6749 §4.1.2.1: the error, at the app's redirect URI."""
        return self.error_at(request.redirect_uri, request.state, error)

    def error_at(self, redirect_uri: str, state: str | None, error: AuthgateError) -> Redirect:
        """:meth:`error` for a request that failed its checks: only its (checked) redirect
        URI is known, and its ``state`` is returned when it is printable and not too long."""
        if state is not None and (len(state) > MAX_STATE_CHARS or not state.isprintable()):
            state = None
        params = [("error", error.code), ("error_description", error.message[:300])]
        return self._redirect(redirect_uri, state, params)

    def _redirect(
        self, redirect_uri: str, state: str | None, params: list[tuple[str, str]]
    ) -> Redirect:
        if state is not None:
            params.append(("state", state))
        params.append(("iss", self._issuer))
        return Redirect(with_query(redirect_uri, params))

    async def decide(
        self,
        request: AuthorizationRequest,
        client: OAuthClient,
        session: BrowserSession | None,
        *,
        signed_in_now: bool = False,
    ) -> Decision:
        """What the request gets, given who is signed in in this browser."""
        interactive = "none" not in request.prompt
        if (
            session is not None
            and not signed_in_now
            and not await self._session_serves(request, client, session)
        ):
            session = None
        if session is None:
            if not interactive:
                return self.error(request, LoginRequired("nobody is signed in (prompt=none)"))
            return SignIn(request)
        if not await self._is_member(client, session.user_id):
            return self.error(request, AccessDenied(NOT_A_MEMBER))
        remembered = "consent" not in request.prompt and await self._consents.covers(
            session.user_id, client.client_id, request.scope
        )
        if remembered:
            return await self._issue(request, client, session)
        if not interactive:
            return self.error(
                request, ConsentRequired("the app needs your consent first (prompt=none)")
            )
        return Consent(request, session)

    async def decide_consent(
        self,
        request: AuthorizationRequest,
        client: OAuthClient,
        session: BrowserSession,
        *,
        allowed: bool,
        actor: Actor,
    ) -> Redirect:
        """The person's answer on the consent page."""
        if not allowed:
            await self._deps.audit(
                "consent.deny", Actor(session.user_id, actor.ip),
                org_id=client.org_id, subject=client.client_id, outcome="failure",
            )  # fmt: skip
            return self.error(request, AccessDenied("you did not allow the app"))
        if not await self._is_member(client, session.user_id):
            return self.error(request, AccessDenied(NOT_A_MEMBER))
        await self._consents.remember(session.user_id, client, request.scope)
        return await self._issue(request, client, session)

    async def _issue(
        self, request: AuthorizationRequest, client: OAuthClient, session: BrowserSession
    ) -> Redirect:
        code = await self._codes.issue(request, session, client.org_id)
        return self.answer(request, [("code", code)])

    async def _session_serves(
        self, request: AuthorizationRequest, client: OAuthClient, session: BrowserSession
    ) -> bool:
        """Whether the existing sign-in is good for this request."""
        if "login" in request.prompt or "select_account" in request.prompt:
            return False
        if request.max_age is not None:
            age = (self._deps.now() - session.auth_time).total_seconds()
            if age > request.max_age:
                return False
        user = await self._deps.store.users.get(session.user_id)
        if user is None or user.disabled:
            return False
        if self._password_policy is None:
            return True
        if session.idp_id is not None:
            # Through another organization's IdP: not where the app's requires its own.
            return await self._password_policy.accepts_federated(client.org_id, session.idp_id)
        try:  # an organization that requires its IdP does not accept a password sign-in
            await self._password_policy.check_password_sign_in(client.org_id)
        except AuthgateError:
            return False
        return True

    async def _is_member(self, client: OAuthClient, user_id: str) -> bool:
        return await self._deps.store.memberships.active_role(client.org_id, user_id) is not None
