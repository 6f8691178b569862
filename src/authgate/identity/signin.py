"""Password sign-in: one answer for every failure, the same time for unknown users.

OWASP ASVS 5.0 V6.3: an unknown email, a wrong password, a disabled user and a user without
a password all fail with :class:`InvalidCredentials` after one argon2 verification's time.
"""

from __future__ import annotations

from dataclasses import replace

from authgate.errors import InvalidCredentials, PayloadTooLarge, ValidationFailed
from authgate.identity.deps import Actor, IdentityDeps
from authgate.identity.emails import normalise_email
from authgate.identity.models import User
from authgate.identity.password_policy import MAX_LENGTH, normalise_password
from authgate.identity.throttle import SignInThrottle

FAILED = "invalid email or password"


class Authenticator:
    """Checks an email and password; upgrades old hashes on success."""

    def __init__(self, deps: IdentityDeps, throttle: SignInThrottle) -> None:
        self._deps = deps
        self._throttle = throttle

    async def authenticate(self, email: str, password: str, actor: Actor) -> User:
        """The user, or :class:`InvalidCredentials` / :class:`TooManyRequests`."""
        try:
            address = normalise_email(email)
        except ValidationFailed:
            raise InvalidCredentials(FAILED) from None
        if not isinstance(password, str):
            raise InvalidCredentials(FAILED)
        if len(password) > MAX_LENGTH:
            # Says nothing about the account; refuses before any hashing work.
            raise PayloadTooLarge(f"password must be at most {MAX_LENGTH} characters")
        await self._throttle.check(address, actor.ip)
        user = await self._deps.store.users.get_by_email(address)
        normalised = normalise_password(password)
        if user is None or user.password_hash is None:
            await self._deps.hasher.burn()
            verified = False
        else:
            verified = await self._deps.hasher.verify(user.password_hash, normalised)
        if not verified or user is None or user.disabled:
            await self._throttle.failed(address, actor.ip)
            await self._deps.audit(
                "signin", actor, subject=user.id if user else None, outcome="failure"
            )
            raise InvalidCredentials(FAILED)
        await self._throttle.succeeded(address, actor.ip)
        if user.password_hash and self._deps.hasher.needs_rehash(user.password_hash):
            user = replace(user, password_hash=await self._deps.hasher.hash(normalised))
            await self._deps.store.users.update(user)
        return user
