"""Who a validated ID token signs in: the federated identity, and the organization's policy.

An IdP account is known by (issuer, subject) — for Entra ID by the tenant's issuer and the
object id — never by its email. A linked account signs in as its user. An unknown account
becomes a new user only under the organization's provisioning mode (auto, invite only,
request access) and only when its verified email's domain is one the IdP serves and the
organization verified. If an authgate user already has that email, nothing is linked and
nobody is signed in: the person proves the account with its password and links the IdP
account from there (:meth:`Provisioner.link`). An email claim alone never reaches an
existing account.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta

from authgate.crypto.randomness import new_id
from authgate.errors import Conflict, ValidationFailed
from authgate.federation.errors import (
    InvalidSsoState,
    SsoAccessRequested,
    SsoAccountExists,
    SsoDenied,
    SsoDomainNotAllowed,
    SsoIdentityTaken,
    SsoNotInvited,
)
from authgate.federation.models import (
    FederatedIdentity,
    IdpConfig,
    IdpType,
    IdTokenClaims,
    Provisioning,
    SsoSettings,
)
from authgate.federation.ports import FederationRepository, SolutionGranter
from authgate.identity.deps import Actor, IdentityDeps
from authgate.identity.emails import domain_of, normalise_email
from authgate.identity.join_requests import JoinRequestService
from authgate.identity.models import Invite, Membership, Organization, Role, User
from authgate.identity.organizations import check_name

TOUCH_AFTER = timedelta(hours=1)
"""A linked account's last sign-in is recorded at most this often (a write per login saved)."""
NO_EMAIL = (
    "the identity provider did not vouch for an email address (a verified 'email' claim); "
    "ask its administrator to release it"
)


@dataclass(frozen=True, slots=True)
class Admission:
    """A person the IdP vouched for, admitted to the IdP's organization (``org`` may come
    without its domains: a session needs its id and slug only)."""

    user: User
    org: Organization
    membership: Membership


class Provisioner:
    """Finds or provisions the user of a validated ID token."""

    def __init__(
        self,
        deps: IdentityDeps,
        repository: FederationRepository,
        join_requests: JoinRequestService,
        solutions: SolutionGranter,
    ) -> None:
        self._deps = deps
        self._repository = repository
        self._join_requests = join_requests
        self._solutions = solutions

    async def admit(self, idp: IdpConfig, claims: IdTokenClaims, actor: Actor) -> Admission:
        """The user and active membership to sign in, or an :class:`SsoDenied` saying why not.

        A returning member takes one read (:meth:`FederationRepository.member_view`), which
        also confirms that the IdP is still the version the login started with.
        """
        issuer, subject = claims.identity_key
        view = await self._repository.member_view(idp.id, issuer=issuer, subject=subject)
        if view is None or not view.idp_enabled or view.idp_version != idp.version:
            raise InvalidSsoState(
                "the identity provider's configuration changed during the sign-in; start again"
            )
        user, membership = view.user, view.membership
        if user is None:
            try:
                user = await self._new_person(idp, await self._org(view.org), claims, actor)
            except Conflict:
                # A concurrent first sign-in of the same IdP account created the user: use
                # it. (An existing account of the same email is no such case: re-raised.)
                again = await self._repository.member_view(idp.id, issuer=issuer, subject=subject)
                if again is None or again.user is None:
                    raise
                user = again.user
            membership = await self._deps.store.memberships.get(view.org.id, user.id)
        if user.disabled:
            await self._denied(view.org, user.id, actor, "user disabled")
            raise SsoDenied("this account is disabled; ask an administrator")
        if membership is None:
            org = await self._org(view.org)
            self._check_domain(idp, org, user.email)
            membership = await self._provision(org, user, actor)
        if not membership.role.is_active:
            await self._denied(view.org, user.id, actor, "membership denied")
            raise SsoDenied("your access to this organization was withdrawn; ask an administrator")
        now = self._deps.now()
        if view.identity is not None and now - view.identity.last_login_at > TOUCH_AFTER:
            await self._repository.touch_identity(issuer, subject, now)
        return Admission(user, view.org, membership)

    async def _org(self, found: Organization) -> Organization:
        """The organization with its verified domains (the sign-in read leaves them out)."""
        org = await self._deps.store.orgs.get(found.id)
        if org is None:
            raise SsoDenied("the organization of this identity provider no longer exists")
        return org

    async def link(self, idp: IdpConfig, claims: IdTokenClaims, user_id: str, actor: Actor) -> None:
        """Link the IdP account to ``user_id``, whose session proved the account."""
        issuer, subject = claims.identity_key
        identity = await self._repository.get_identity(issuer, subject)
        if identity is not None and identity.user_id != user_id:
            raise SsoIdentityTaken(
                "this identity provider account is linked to another authgate account"
            )
        if identity is None:
            await self._repository.add_identity(self._identity(idp, claims, user_id, None))
        await self._deps.audit("sso.link", actor, org_id=idp.org_id, subject=user_id, idp_id=idp.id)

    async def _new_person(
        self, idp: IdpConfig, org: Organization, claims: IdTokenClaims, actor: Actor
    ) -> User:
        """A new user for an unknown IdP account (with the membership its mode gives), or the
        refusal; an email that already has an account is never linked."""
        email = _email(idp, claims)
        self._check_domain(idp, org, email)
        if await self._deps.store.users.get_by_email(email) is not None:
            await self._denied(org, None, actor, "account exists")
            raise SsoAccountExists(
                "an authgate account with this email already exists: sign in with its password, "
                "then link this identity provider (GET /v1/sso/link?idp=…)"
            )
        settings = await self._settings(org)
        invite = None
        if settings.provisioning is Provisioning.INVITE_ONLY:
            invite = await self._open_invite(org, email)
            if invite is None:
                await self._denied(org, None, actor, "not invited")
                raise SsoNotInvited(
                    f"{org.name} admits invited people only; ask an administrator for an invite"
                )
        now = self._deps.now()
        user = User(new_id(), email, _display_name(claims, email), None, False, True, now, None)
        async with self._deps.store.transaction():
            await self._deps.store.users.create(user)
            await self._repository.add_identity(self._identity(idp, claims, user.id, email))
            if invite is not None:
                if not await self._deps.store.invites.mark_accepted(invite.id, now):
                    raise SsoNotInvited(
                        "the invite was used or revoked meanwhile; ask for a new one"
                    )
                await self._join(org, user, invite.role, actor, "invite")
            elif settings.provisioning is Provisioning.AUTO:
                await self._join(org, user, Role.USER, actor, "auto")
        await self._deps.audit(
            "sso.user_created", actor, org_id=org.id, subject=user.id, idp_id=idp.id
        )
        if settings.provisioning is Provisioning.AUTO:
            await self._grant_solutions(org, settings, user)
        return user

    async def _provision(self, org: Organization, user: User, actor: Actor) -> Membership:
        """A known person who is not a member: the organization's mode decides."""
        settings = await self._settings(org)
        if settings.provisioning is Provisioning.AUTO:
            membership = await self._join(org, user, Role.USER, actor, "auto")
            await self._grant_solutions(org, settings, user)
            return membership
        if settings.provisioning is Provisioning.INVITE_ONLY:
            invite = await self._open_invite(org, user.email)
            if invite is None or not await self._deps.store.invites.mark_accepted(
                invite.id, self._deps.now()
            ):
                await self._denied(org, user.id, actor, "not invited")
                raise SsoNotInvited(
                    f"{org.name} admits invited people only; ask an administrator for an invite"
                )
            return await self._join(org, user, invite.role, actor, "invite")
        # Request access: the foundation's join request, decided by the organization's admins.
        with contextlib.suppress(Conflict):  # already pending
            await self._join_requests.request_by_slug(org.slug, user, actor)
        raise SsoAccessRequested(
            f"your request to join {org.name} is waiting for an administrator's approval; sign "
            "in again once it is approved"
        )

    async def _join(
        self, org: Organization, user: User, role: Role, actor: Actor, how: str
    ) -> Membership:
        membership = Membership(org.id, user.id, role, self._deps.now())
        await self._deps.store.memberships.put(membership)
        await self._deps.audit(
            "sso.provision", actor, org_id=org.id, subject=user.id, mode=how, role=role.value
        )
        return membership

    async def _grant_solutions(self, org: Organization, settings: SsoSettings, user: User) -> None:
        for name in settings.solutions:
            await self._solutions.grant_user(org.id, name, user.id)

    async def _open_invite(self, org: Organization, email: str) -> Invite | None:
        now = self._deps.now()
        for invite in await self._deps.store.invites.list_for_org(org.id):
            if invite.email == email and invite.is_open and invite.expires_at > now:
                return invite
        return None

    async def _settings(self, org: Organization) -> SsoSettings:
        return await self._repository.get_settings(org.id) or SsoSettings(org.id)

    def _check_domain(self, idp: IdpConfig, org: Organization, email: str) -> None:
        domain = domain_of(email)
        if domain not in idp.domains or domain not in org.domains:
            raise SsoDomainNotAllowed(
                f"{org.name} admits people of its own email domains only through this identity "
                "provider"
            )

    def _identity(
        self, idp: IdpConfig, claims: IdTokenClaims, user_id: str, email: str | None
    ) -> FederatedIdentity:
        issuer, subject = claims.identity_key
        now = self._deps.now()
        return FederatedIdentity(issuer, subject, user_id, idp.id, email, now, now)

    async def _denied(self, org: Organization, user_id: str | None, actor: Actor, why: str) -> None:
        await self._deps.audit(
            "sso.denied", actor, org_id=org.id, subject=user_id, outcome="failure", reason=why
        )


def _email(idp: IdpConfig, claims: IdTokenClaims) -> str:
    """The address the IdP vouches for: a verified ``email``; Entra ID sends no
    ``email_verified``, so there the tenant (an allowed one) vouches for ``email`` or the
    sign-in name, and the domain check that follows decides."""
    if idp.type is IdpType.ENTRA:
        raw = claims.email or claims.preferred_username
    else:
        raw = claims.email if claims.email_verified else None
    if raw is None:
        raise SsoDenied(NO_EMAIL)
    try:
        return normalise_email(raw)
    except ValidationFailed:
        raise SsoDenied(NO_EMAIL) from None


def _display_name(claims: IdTokenClaims, email: str) -> str:
    for candidate in (claims.name, claims.preferred_username, email.split("@", 1)[0]):
        if candidate:
            try:
                return check_name(candidate, "display name")
            except ValidationFailed:
                continue
    return email
