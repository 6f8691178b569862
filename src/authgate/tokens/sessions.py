"""Sign-in sessions: password sign-in, refresh with rotation (RFC 9700 §4.14), logout.

A session is a refresh-token family. Each refresh spends the presented token and issues its
successor; presenting a spent token revokes the family. Every refresh re-checks the user and
the membership, so disabling a user or removing or DENYing a member stops their refresh
tokens at once, on every node.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import NoReturn

from authgate.crypto.randomness import new_id, new_secret
from authgate.errors import (
    InvalidGrant,
    NoActiveMembership,
    OrganizationRequired,
    ValidationFailed,
)
from authgate.identity.deps import Actor, IdentityDeps
from authgate.identity.models import Membership, Organization, Role, User
from authgate.identity.signin import Authenticator
from authgate.tokens.access import AccessTokens
from authgate.tokens.models import RefreshToken, Rotation, RotationOutcome, TokenFamily
from authgate.tokens.ports import PasswordSignInPolicy, RefreshTokenRepository
from authgate.tokens.responses import TokenResponse
from authgate.tokens.scopes import DEFAULT_USER_SCOPE, narrow

DEVICE_CLIENT_ID = "authgate-device"
INVALID_REFRESH = "the refresh token is invalid, expired or revoked; sign in again"
OTHER_CLIENT = "the refresh token was issued to another client"


class SessionService:
    """Issues, refreshes and ends users' sessions."""

    def __init__(
        self,
        deps: IdentityDeps,
        authenticator: Authenticator,
        access: AccessTokens,
        refresh_tokens: RefreshTokenRepository,
        *,
        absolute_ttl: int,
        idle_ttl: int,
        password_policy: PasswordSignInPolicy | None = None,
    ) -> None:
        self._deps = deps
        self._password_policy = password_policy
        self._authenticator = authenticator
        self._access = access
        self._refresh_tokens = refresh_tokens
        self._absolute = timedelta(seconds=absolute_ttl)
        self._idle = timedelta(seconds=idle_ttl)

    async def password_login(
        self,
        email: str,
        password: str,
        actor: Actor,
        *,
        organization: str | None = None,
        client_id: str = DEVICE_CLIENT_ID,
        scope: str | None = None,
    ) -> TokenResponse:
        """Check the password, pick the organization, start a session."""
        if client_id != DEVICE_CLIENT_ID:
            # Only the device client signs in with a password; a user's token must never
            # carry another client's id (a service client's, say).
            raise ValidationFailed(
                f"client_id: password sign-in is only for '{DEVICE_CLIENT_ID}'; omit client_id"
            )
        user = await self._authenticator.authenticate(email, password, actor)
        org, membership = await self._choose_organization(user, organization)
        if self._password_policy is not None:
            await self._password_policy.check_password_sign_in(org.id)
        return await self.start(user, org, membership, actor, client_id=client_id, scope=scope)

    async def start(
        self,
        user: User,
        org: Organization,
        membership: Membership,
        actor: Actor,
        *,
        client_id: str = DEVICE_CLIENT_ID,
        scope: str | None = None,
        idp_id: str | None = None,
        session_id: str | None = None,
    ) -> TokenResponse:
        """A new session for an authenticated user (password, invite, or SSO: ``idp_id``
        names the identity provider, whose change or removal ends the session)."""
        tokens = await self.start_in(
            user, org.id, membership.role, actor,
            client_id=client_id, scope=scope, idp_id=idp_id, session_id=session_id,
        )  # fmt: skip
        return replace(tokens, organization=org.slug)

    async def start_in(
        self,
        user: User,
        org_id: str,
        role: Role,
        actor: Actor,
        *,
        client_id: str = DEVICE_CLIENT_ID,
        scope: str | None = None,
        idp_id: str | None = None,
        session_id: str | None = None,
    ) -> TokenResponse:
        """:meth:`start` for a caller that checked the membership itself and knows only
        the organization's id and the role (the answer names no organization)."""
        granted = narrow(scope, DEFAULT_USER_SCOPE)
        now = self._deps.now()
        family = TokenFamily(
            session_id or new_id(),
            user.id,
            org_id,
            client_id,
            granted,
            now,
            now + self._absolute,
            idp_id=idp_id,
        )
        secret = new_secret()
        first = RefreshToken(self._deps.keyed.digest(secret), family.id, now, self._expiry(family))
        await self._refresh_tokens.create_family(family, first)
        via = {"idp_id": idp_id} if idp_id is not None else {}
        await self._deps.audit(
            "signin",
            Actor(user.id, actor.ip),
            org_id=org_id,
            subject=user.id,
            client_id=client_id,
            **via,
        )
        access = self._access.issue(
            subject=user.id,
            org_id=org_id,
            roles=(role.value,),
            client_id=client_id,
            scope=granted,
            session_id=family.id,
        )
        return TokenResponse(access, self._access.ttl, granted, secret)

    async def refresh(
        self, refresh_token: str, client_id: str, scope: str | None, actor: Actor
    ) -> TokenResponse:
        """Rotate the refresh token; RFC 6749 §6 with RFC 9700 reuse detection."""
        digest = self._deps.keyed.digest(refresh_token)
        if scope is not None and scope.strip():
            return await self._refresh_narrowed(digest, client_id, scope, actor)
        # The common case: the store checks the client, spends the token, stores the
        # successor and reads the user's current role at once (one statement on PostgreSQL).
        now = self._deps.now()
        successor_secret = new_secret()
        # The successor joins the presented token's family, whose expiry also caps its own.
        successor = RefreshToken(
            self._deps.keyed.digest(successor_secret), "", now, now + self._idle
        )
        rotation = await self._refresh_tokens.rotate_for_client(digest, client_id, successor, now)
        family, role = await self._checked(rotation, rotation.role, actor)
        return self._issued(family, role, client_id, narrow(None, family.scope), successor_secret)

    async def _refresh_narrowed(
        self, digest: str, client_id: str, scope: str, actor: Actor
    ) -> TokenResponse:
        # A narrower scope is checked against the family before anything is spent.
        found = await self._refresh_tokens.find_with_role(digest)
        if found is None:
            raise InvalidGrant(INVALID_REFRESH)
        family, _, role = found
        if family.client_id != client_id:
            raise InvalidGrant(OTHER_CLIENT)
        granted = narrow(scope, family.scope)
        if role is None:
            await self._withdraw(family)
        now = self._deps.now()
        successor_secret = new_secret()
        successor = RefreshToken(
            self._deps.keyed.digest(successor_secret), family.id, now, self._expiry(family)
        )
        rotation = await self._refresh_tokens.rotate(digest, successor, now)
        await self._checked(rotation, role, actor)
        return self._issued(family, role, client_id, granted, successor_secret)

    async def _checked(
        self, rotation: Rotation, role: Role | None, actor: Actor
    ) -> tuple[TokenFamily, Role]:
        """The rotated family and the user's role, or the refusal (ending the session on
        reuse or lost access)."""
        if rotation.outcome is RotationOutcome.OTHER_CLIENT:
            raise InvalidGrant(OTHER_CLIENT)
        if rotation.outcome is RotationOutcome.REUSED and rotation.family is not None:
            await self._deps.audit(
                "token.reuse",
                actor,
                org_id=rotation.family.org_id,
                subject=rotation.family.user_id,
                outcome="failure",
            )
            raise InvalidGrant(INVALID_REFRESH)
        if rotation.outcome is not RotationOutcome.ROTATED or rotation.family is None:
            raise InvalidGrant(INVALID_REFRESH)
        if role is None:
            # Spent by this very rotation, but access is gone: end the session, issue nothing.
            await self._withdraw(rotation.family)
        return rotation.family, role

    async def _withdraw(self, family: TokenFamily) -> NoReturn:
        """Access withdrawn (user disabled, member removed or DENY): end the session now."""
        await self._refresh_tokens.revoke_family(family.id, "access withdrawn", self._deps.now())
        raise InvalidGrant(INVALID_REFRESH)

    def _issued(
        self,
        family: TokenFamily,
        role: Role,
        client_id: str,
        granted: str,
        successor_secret: str,
    ) -> TokenResponse:
        access = self._access.issue(
            subject=family.user_id,
            org_id=family.org_id,
            roles=(role.value,),
            client_id=client_id,
            scope=granted,
            session_id=family.id,
        )
        return TokenResponse(access, self._access.ttl, granted, successor_secret)

    async def end(self, session_id: str, actor: Actor, reason: str = "logout") -> bool:
        """Revoke one session's family (logout)."""
        revoked = await self._refresh_tokens.revoke_family(session_id, reason, self._deps.now())
        if revoked:
            await self._deps.audit("token.revoke", actor, subject=session_id, reason=reason)
        return revoked

    async def revoke_refresh_token(self, refresh_token: str, client_id: str, actor: Actor) -> None:
        """RFC 7009: revoke the token's family, if it belongs to the client; silent otherwise."""
        found = await self._refresh_tokens.find(self._deps.keyed.digest(refresh_token))
        if found is not None and found[0].client_id == client_id:
            await self.end(found[0].id, actor, "revoked")

    async def session_is_live(self, session_id: str) -> bool:
        """Whether a session exists, is not revoked and has not expired."""
        family = await self._refresh_tokens.get_family(session_id)
        return family is not None and not family.is_revoked and family.expires_at > self._deps.now()

    async def organization_for(
        self, user: User, requested: str | None
    ) -> tuple[Organization, Membership]:
        """The organization a sign-in of ``user`` lands in, as password sign-in chooses it."""
        return await self._choose_organization(user, requested)

    def _expiry(self, family: TokenFamily) -> datetime:
        return min(self._deps.now() + self._idle, family.expires_at)

    async def _choose_organization(
        self, user: User, requested: str | None
    ) -> tuple[Organization, Membership]:
        memberships = await self._deps.store.memberships.list_for_user(user.id)
        active = [(m, o) for m, o in memberships if m.role.is_active]
        if requested is not None:
            wanted = requested.strip().lower()
            for membership, org in active:
                if wanted in (org.slug, org.id):
                    return org, membership
            raise NoActiveMembership(f"you have no active membership in '{requested[:64]}'")
        if len(active) == 1:
            return active[0][1], active[0][0]
        if len(active) > 1:
            slugs = sorted(org.slug for _, org in active)
            raise OrganizationRequired(
                "you belong to several organizations; name one in 'organization'",
                details={"organizations": slugs},
            )
        raise NoActiveMembership(
            "you are not an active member of any organization; accept an invite, or wait "
            "until an admin approves your request to join"
        )
