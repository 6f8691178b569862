"""The narrow async interfaces the user manager needs; adapters in ``store/`` and ``mail/``.

Every repository method is atomic on its own. :meth:`IdentityStore.transaction` groups calls
made inside it (on any repository of the store) into one database transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from authgate.identity.models import (
    AuditEvent,
    Invite,
    JoinRequest,
    Membership,
    OneTimeToken,
    Organization,
    RequestStatus,
    Role,
    TokenPurpose,
    User,
)


class OrganizationRepository(Protocol):
    """Organizations; slugs are unique."""

    async def create(self, org: Organization) -> None:
        """Insert; raises :class:`authgate.errors.Conflict` when the slug is taken."""

    async def get(self, org_id: str) -> Organization | None:
        """By id."""

    async def get_by_slug(self, slug: str) -> Organization | None:
        """By slug (exact, lower-case)."""

    async def update(self, org: Organization) -> None:
        """Replace name, domains, domain_join and request_email."""

    async def find_by_domain(self, domain: str) -> list[Organization]:
        """Organizations that verified this email domain (lower-case), ordered by slug."""

    async def count(self) -> int:
        """How many organizations exist."""


class UserRepository(Protocol):
    """Users; emails are unique and stored lower-cased."""

    async def create(self, user: User) -> None:
        """Insert; raises :class:`authgate.errors.Conflict` when the email is taken."""

    async def get(self, user_id: str) -> User | None:
        """By id."""

    async def get_by_email(self, email: str) -> User | None:
        """By lower-cased email."""

    async def update(self, user: User) -> None:
        """Replace every mutable field."""


class MembershipRepository(Protocol):
    """Who belongs to which organization with which role."""

    async def put(self, membership: Membership) -> None:
        """Insert or replace the role of (org, user)."""

    async def get(self, org_id: str, user_id: str) -> Membership | None:
        """One membership."""

    async def active_role(self, org_id: str, user_id: str) -> Role | None:
        """The member's role when the user is enabled and the role is not DENY, else None."""

    async def active_member(self, org_id: str, user_id: str) -> tuple[User, Role] | None:
        """:meth:`active_role` with the user, in one read."""

    async def delete(self, org_id: str, user_id: str) -> bool:
        """Remove; True when one existed."""

    async def list_for_org(self, org_id: str) -> list[tuple[Membership, User]]:
        """Members of an organization with their users, ordered by email."""

    async def list_for_user(self, user_id: str) -> list[tuple[Membership, Organization]]:
        """A user's memberships with their organizations, ordered by slug."""

    async def count_role(self, org_id: str, role: str) -> int:
        """How many members hold this role (to keep the last OWNER)."""


class InviteRepository(Protocol):
    """Email invitations."""

    async def create(self, invite: Invite) -> None:
        """Insert."""

    async def get(self, org_id: str, invite_id: str) -> Invite | None:
        """By id, only within the organization."""

    async def get_by_token_hash(self, token_hash: str) -> Invite | None:
        """By the keyed hash of its token."""

    async def list_for_org(self, org_id: str) -> list[Invite]:
        """Newest first."""

    async def update(self, invite: Invite) -> None:
        """Replace token_hash, expires_at, sent_count, revoked_at."""

    async def mark_accepted(self, invite_id: str, at: datetime) -> bool:
        """Set accepted_at only if still open; True when this call did it."""


class JoinRequestRepository(Protocol):
    """Requests to join an organization."""

    async def create(self, request: JoinRequest) -> None:
        """Insert."""

    async def get(self, org_id: str, request_id: str) -> JoinRequest | None:
        """By id, only within the organization."""

    async def find_pending(self, org_id: str, user_id: str) -> JoinRequest | None:
        """The user's pending request to this organization, if any."""

    async def list_for_org(
        self, org_id: str, status: RequestStatus | None = None
    ) -> list[tuple[JoinRequest, User]]:
        """Requests with their users, newest first."""

    async def decide(
        self, request_id: str, status: RequestStatus, decided_by: str, at: datetime
    ) -> bool:
        """Move a PENDING request to ``status``; True when this call did it."""


class OneTimeTokenRepository(Protocol):
    """Email verification and password reset tokens."""

    async def create(self, token: OneTimeToken) -> None:
        """Insert."""

    async def get_by_hash(self, token_hash: str) -> OneTimeToken | None:
        """By the keyed hash of the token."""

    async def consume(self, token_id: str, at: datetime) -> bool:
        """Set used_at only if unused; True when this call did it."""

    async def invalidate(self, user_id: str, purpose: TokenPurpose, at: datetime) -> None:
        """Mark every unused token of this user and purpose as used."""


class AuditLog(Protocol):
    """Append-only record of security events."""

    async def append(self, event: AuditEvent) -> None:
        """Write one event; there is no update and no delete."""

    async def list(
        self, org_id: str | None, *, limit: int = 100, before: datetime | None = None
    ) -> list[AuditEvent]:
        """Newest first; ``org_id=None`` lists events of every organization."""


class IdentityStore(Protocol):
    """Every repository of the user manager, and a way to group calls in a transaction."""

    @property
    def orgs(self) -> OrganizationRepository:
        """The orgs repository."""

    @property
    def users(self) -> UserRepository:
        """The users repository."""

    @property
    def memberships(self) -> MembershipRepository:
        """The memberships repository."""

    @property
    def invites(self) -> InviteRepository:
        """The invites repository."""

    @property
    def join_requests(self) -> JoinRequestRepository:
        """The join requests repository."""

    @property
    def one_time_tokens(self) -> OneTimeTokenRepository:
        """The one time tokens repository."""

    @property
    def audit(self) -> AuditLog:
        """The audit repository."""

    def transaction(self) -> AbstractAsyncContextManager[None]:
        """Calls on any repository inside this block share one transaction (nesting joins it)."""


class PasswordHasher(Protocol):
    """argon2id, off the event loop."""

    async def hash(self, password: str) -> str:
        """Hash a (normalised) password."""

    async def verify(self, password_hash: str, password: str) -> bool:
        """Constant-time check; False on mismatch or a malformed hash."""

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with weaker parameters than the current ones."""

    async def burn(self) -> None:
        """Spend the time of one verification, so unknown users look like wrong passwords."""


class Mailer(Protocol):
    """Renders a named template and delivers it (SMTP, or the file outbox)."""

    async def send(self, to: str, template: str, context: Mapping[str, str]) -> None:
        """Send ``template`` (e.g. ``invite``) to ``to``; the context holds no secret but links."""


class AttemptCounter(Protocol):
    """Counts events per key in a fixed window (Redis across nodes, or in-process)."""

    async def hit(self, key: str, window: int) -> int:
        """Count one event; return how many happened in the key's current window."""

    async def count(self, key: str) -> int:
        """How many events the key's current window holds."""

    async def reset(self, key: str) -> None:
        """Forget the key."""


class SessionRevoker(Protocol):
    """Ends sign-in sessions (refresh-token families); the token store provides it."""

    async def revoke_for_user(
        self,
        user_id: str,
        reason: str,
        at: datetime,
        *,
        org_id: str | None = None,
        except_family: str | None = None,
    ) -> int:
        """Revoke every live session of a user (optionally only in one organization)."""
