"""Email invitations: create, list, resend, revoke, accept.

The link carries a random token; only its keyed hash is stored. Accepting is single-use and
expires. A new user sets a password on acceptance; an existing user proves the account with
their current password, so an invite can never be used to take over an account.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import quote

from authgate.crypto.randomness import new_id, new_secret
from authgate.errors import (
    Conflict,
    Forbidden,
    Gone,
    InvalidCredentials,
    NotFound,
    ValidationFailed,
)
from authgate.identity.access import require_admin
from authgate.identity.deps import Actor, IdentityDeps
from authgate.identity.emails import normalise_email
from authgate.identity.models import Invite, Membership, Organization, Role, User
from authgate.identity.organizations import check_name
from authgate.identity.password_policy import check_password, normalise_password

INVALID_LINK = "this invitation link is invalid, expired, revoked or already used"


class InviteService:
    """Invitations into one organization."""

    def __init__(self, deps: IdentityDeps) -> None:
        self._deps = deps

    async def create(self, slug: str, email: str, role: Role, actor: Actor) -> Invite:
        """Invite ``email`` with ``role`` and send the email."""
        org, mine = await require_admin(self._deps, slug, actor)
        if role is Role.DENY:
            raise ValidationFailed("role must be OWNER, ADMIN, MAKER or USER for an invite")
        if role is Role.OWNER and mine.role is not Role.OWNER:
            raise Forbidden("only an OWNER can invite another OWNER")
        address = normalise_email(email)
        existing = await self._deps.store.users.get_by_email(address)
        if existing and await self._deps.store.memberships.get(org.id, existing.id):
            raise Conflict(f"{address} is already a member of this organization")
        token = new_secret()
        now = self._deps.now()
        invite = Invite(
            id=new_id(),
            org_id=org.id,
            email=address,
            role=role,
            token_hash=self._deps.keyed.digest(token),
            invited_by=actor.user_id,
            created_at=now,
            expires_at=now + timedelta(seconds=self._deps.invite_ttl),
        )
        await self._deps.store.invites.create(invite)
        await self._deps.audit("invite.create", actor, org_id=org.id, subject=address)
        await self._send(org, invite, token, actor)
        return invite

    async def list(self, slug: str, actor: Actor) -> list[Invite]:
        """Every invite of the organization, newest first."""
        org, _ = await require_admin(self._deps, slug, actor)
        return await self._deps.store.invites.list_for_org(org.id)

    async def resend(self, slug: str, invite_id: str, actor: Actor) -> Invite:
        """A fresh link and expiry; the previous link stops working."""
        org, _ = await require_admin(self._deps, slug, actor)
        invite = await self._open_invite(org.id, invite_id)
        token = new_secret()
        updated = replace(
            invite,
            token_hash=self._deps.keyed.digest(token),
            expires_at=self._deps.now() + timedelta(seconds=self._deps.invite_ttl),
            sent_count=invite.sent_count + 1,
        )
        await self._deps.store.invites.update(updated)
        await self._deps.audit("invite.resend", actor, org_id=org.id, subject=invite.email)
        await self._send(org, updated, token, actor)
        return updated

    async def revoke(self, slug: str, invite_id: str, actor: Actor) -> None:
        """The link stops working."""
        org, _ = await require_admin(self._deps, slug, actor)
        invite = await self._open_invite(org.id, invite_id)
        await self._deps.store.invites.update(replace(invite, revoked_at=self._deps.now()))
        await self._deps.audit("invite.revoke", actor, org_id=org.id, subject=invite.email)

    async def accept(
        self, token: str, password: str, display_name: str | None, actor: Actor
    ) -> tuple[User, Organization, Membership]:
        """Activate the membership; create the user (with a password) if new."""
        invite = await self._deps.store.invites.get_by_token_hash(self._deps.keyed.digest(token))
        now = self._deps.now()
        if invite is None or not invite.is_open or invite.expires_at <= now:
            await self._deps.audit("invite.accept", actor, outcome="failure")
            raise Gone(INVALID_LINK)
        org = await self._deps.store.orgs.get(invite.org_id)
        if org is None:
            raise Gone(INVALID_LINK)
        user = await self._deps.store.users.get_by_email(invite.email)
        if user is not None and user.password_hash is not None:
            ok = await self._deps.hasher.verify(user.password_hash, normalise_password(password))
            if not ok or user.disabled:
                raise InvalidCredentials(
                    "this email already has an account: enter its current password to accept"
                )
        name = check_name(display_name or invite.email.split("@", 1)[0], "display name")
        new_hash = None
        if user is None or user.password_hash is None:
            new_hash = await self._deps.hasher.hash(
                check_password(password, email=invite.email, display_name=name)
            )
        async with self._deps.store.transaction():
            if not await self._deps.store.invites.mark_accepted(invite.id, now):
                raise Gone(INVALID_LINK)
            if user is None:
                user = User(new_id(), invite.email, name, new_hash, False, True, now, now)
                await self._deps.store.users.create(user)
            elif new_hash is not None:
                user = replace(
                    user, password_hash=new_hash, email_verified=True, password_changed_at=now
                )
                await self._deps.store.users.update(user)
            elif not user.email_verified:
                user = replace(user, email_verified=True)
                await self._deps.store.users.update(user)
            membership = Membership(org.id, user.id, invite.role, now)
            await self._deps.store.memberships.put(membership)
            await self._deps.audit(
                "invite.accept",
                Actor(user.id, actor.ip),
                org_id=org.id,
                subject=user.id,
                role=invite.role.value,
            )
        return user, org, membership

    async def _open_invite(self, org_id: str, invite_id: str) -> Invite:
        invite = await self._deps.store.invites.get(org_id, invite_id)
        if invite is None:
            raise NotFound("no such invite in this organization")
        if not invite.is_open:
            raise Conflict("this invite was already accepted or revoked")
        return invite

    async def _send(self, org: Organization, invite: Invite, token: str, actor: Actor) -> None:
        inviter = await self._deps.store.users.get(actor.user_id) if actor.user_id else None
        await self._deps.mailer.send(
            invite.email,
            "invite",
            {
                "org_name": org.name,
                "inviter_name": inviter.display_name if inviter else org.name,
                "role": invite.role.value,
                "link": self._deps.link(f"/accept-invite?token={quote(token)}"),
                "expires_at": invite.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
            },
        )
