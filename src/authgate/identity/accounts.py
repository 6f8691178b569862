"""Accounts: self-registration with email verification, password change and reset, disable.

Registration and reset answer the same whether or not the email has an account, and spend
the same argon2 time, so neither reveals who is registered. Verification and reset tokens
are single use, expire, and are bound to their user. Changing or resetting a password ends
the user's other sessions; disabling a user ends all of them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import quote

from authgate.crypto.randomness import new_id, new_secret
from authgate.errors import Gone, InvalidCredentials, NotFound
from authgate.identity.deps import Actor, IdentityDeps
from authgate.identity.emails import normalise_email
from authgate.identity.models import OneTimeToken, TokenPurpose, User
from authgate.identity.organizations import check_name
from authgate.identity.password_policy import check_password, normalise_password

INVALID_TOKEN = "this link is invalid, expired or already used; ask for a new one"


class AccountService:
    """A person's own account."""

    def __init__(self, deps: IdentityDeps) -> None:
        self._deps = deps

    async def create_user(self, email: str, password: str, display_name: str) -> User:
        """A verified user with a password (operators: bootstrap and admin CLI)."""
        address = normalise_email(email)
        name = check_name(display_name, "display name")
        password_hash = await self._deps.hasher.hash(
            check_password(password, email=address, display_name=name)
        )
        now = self._deps.now()
        user = User(new_id(), address, name, password_hash, False, True, now, now)
        await self._deps.store.users.create(user)
        return user

    async def register(
        self, email: str, password: str, display_name: str, actor: Actor, org_slug: str | None
    ) -> None:
        """Create an unverified user and email a verification link; silent on a known email."""
        address = normalise_email(email)
        name = check_name(display_name, "display name")
        normalised = check_password(password, email=address, display_name=name)
        password_hash = await self._deps.hasher.hash(normalised)
        if await self._deps.store.users.get_by_email(address) is not None:
            await self._deps.audit("register", actor, subject=address, outcome="duplicate")
            return
        now = self._deps.now()
        user = User(new_id(), address, name, password_hash, False, False, now, now)
        await self._deps.store.users.create(user)
        await self._deps.audit("register", actor, subject=user.id)
        token = await self._issue(user, TokenPurpose.VERIFY_EMAIL, self._deps.verification_ttl)
        org_part = f"&org={quote(org_slug)}" if org_slug else ""
        await self._deps.mailer.send(
            address,
            "verify_email",
            {
                "display_name": name,
                "link": self._deps.link(f"/verify-email?token={quote(token)}{org_part}"),
                "expires_at": self._expiry(self._deps.verification_ttl),
            },
        )

    async def verify_email(self, token: str, actor: Actor) -> User:
        """Mark the address verified (single use)."""
        user = await self._consume(token, TokenPurpose.VERIFY_EMAIL, actor)
        user = replace(user, email_verified=True)
        await self._deps.store.users.update(user)
        await self._deps.audit("email.verify", actor, subject=user.id)
        return user

    async def request_reset(self, email: str, actor: Actor) -> None:
        """Email a reset link if the account exists; always answers the same."""
        address = normalise_email(email)
        user = await self._deps.store.users.get_by_email(address)
        await self._deps.audit("password.reset_request", actor, subject=user.id if user else None)
        if user is None or user.disabled:
            return
        await self._deps.store.one_time_tokens.invalidate(
            user.id, TokenPurpose.RESET_PASSWORD, self._deps.now()
        )
        token = await self._issue(user, TokenPurpose.RESET_PASSWORD, self._deps.reset_ttl)
        await self._deps.mailer.send(
            address,
            "reset_password",
            {
                "display_name": user.display_name,
                "link": self._deps.link(f"/reset-password?token={quote(token)}"),
                "expires_at": self._expiry(self._deps.reset_ttl),
            },
        )

    async def reset_password(self, token: str, new_password: str, actor: Actor) -> User:
        """Set a new password from a reset link; every session ends."""
        digest = self._deps.keyed.digest(token)
        pending = await self._deps.store.one_time_tokens.get_by_hash(digest)
        user = await self._deps.store.users.get(pending.user_id) if pending else None
        if user is not None:
            # Validate before spending the token, so a weak password does not burn the link.
            check_password(new_password, email=user.email, display_name=user.display_name)
        user = await self._consume(token, TokenPurpose.RESET_PASSWORD, actor)
        return await self._set_password(
            user, new_password, actor, keep_session=None, action="password.reset", verified=True
        )

    async def change_password(
        self, user_id: str, current: str, new_password: str, actor: Actor, session_id: str | None
    ) -> User:
        """Change a password with the current one; other sessions end, this one stays."""
        user = await self._deps.store.users.get(user_id)
        if (
            user is None
            or user.password_hash is None
            or not await self._deps.hasher.verify(user.password_hash, normalise_password(current))
        ):
            await self._deps.audit("password.change", actor, subject=user_id, outcome="failure")
            raise InvalidCredentials("the current password is wrong")
        return await self._set_password(
            user,
            new_password,
            actor,
            keep_session=session_id,
            action="password.change",
            verified=user.email_verified,
        )

    async def set_disabled(self, email: str, disabled: bool, actor: Actor) -> User:
        """Disable (every session ends at once) or re-enable a user."""
        user = await self._deps.store.users.get_by_email(normalise_email(email))
        if user is None:
            raise NotFound("no user with that email")
        user = replace(user, disabled=disabled)
        async with self._deps.store.transaction():
            await self._deps.store.users.update(user)
            if disabled:
                await self._deps.sessions.revoke_for_user(
                    user.id, "user disabled", self._deps.now()
                )
            await self._deps.audit(
                "user.disable" if disabled else "user.enable", actor, subject=user.id
            )
        return user

    async def _set_password(
        self,
        user: User,
        new_password: str,
        actor: Actor,
        *,
        keep_session: str | None,
        action: str,
        verified: bool,
    ) -> User:
        normalised = check_password(new_password, email=user.email, display_name=user.display_name)
        now = self._deps.now()
        updated = replace(
            user,
            password_hash=await self._deps.hasher.hash(normalised),
            password_changed_at=now,
            email_verified=verified,
        )
        async with self._deps.store.transaction():
            await self._deps.store.users.update(updated)
            await self._deps.sessions.revoke_for_user(
                user.id, "password changed", now, except_family=keep_session
            )
            await self._deps.audit(action, actor, subject=user.id)
        await self._deps.mailer.send(
            user.email, "password_changed", {"display_name": user.display_name}
        )
        return updated

    async def _issue(self, user: User, purpose: TokenPurpose, ttl: int) -> str:
        token = new_secret()
        now = self._deps.now()
        await self._deps.store.one_time_tokens.create(
            OneTimeToken(
                new_id(),
                user.id,
                purpose,
                self._deps.keyed.digest(token),
                now,
                now + timedelta(seconds=ttl),
            )
        )
        return token

    async def _consume(self, token: str, purpose: TokenPurpose, actor: Actor) -> User:
        record = await self._deps.store.one_time_tokens.get_by_hash(self._deps.keyed.digest(token))
        now = self._deps.now()
        user = await self._deps.store.users.get(record.user_id) if record else None
        if (
            record is None
            or user is None
            or record.purpose is not purpose
            or record.used_at is not None
            or record.expires_at <= now
            or not await self._deps.store.one_time_tokens.consume(record.id, now)
        ):
            await self._deps.audit(f"{purpose.value.lower()}", actor, outcome="failure")
            raise Gone(INVALID_TOKEN)
        return user

    def _expiry(self, ttl: int) -> str:
        return (self._deps.now() + timedelta(seconds=ttl)).strftime("%Y-%m-%d %H:%M UTC")
