"""The user manager's domain records: plain frozen dataclasses, no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Role(enum.StrEnum):
    """A member's role in an organization; DENY suspends without deleting."""

    OWNER = "OWNER"
    ADMIN = "ADMIN"
    MAKER = "MAKER"
    USER = "USER"
    DENY = "DENY"

    @property
    def is_admin(self) -> bool:
        """OWNER and ADMIN may manage the organization."""
        return self in (Role.OWNER, Role.ADMIN)

    @property
    def is_active(self) -> bool:
        """Every role but DENY grants access."""
        return self is not Role.DENY


class DomainJoin(enum.StrEnum):
    """What happens when a user whose email matches a verified domain asks to join."""

    OFF = "OFF"
    MANUAL = "MANUAL"
    AUTO = "AUTO"


class RequestStatus(enum.StrEnum):
    """The state of a request to join an organization."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    DENIED = "DENIED"


class TokenPurpose(enum.StrEnum):
    """What a one-time emailed token proves."""

    VERIFY_EMAIL = "VERIFY_EMAIL"
    RESET_PASSWORD = "RESET_PASSWORD"


@dataclass(frozen=True, slots=True)
class Organization:
    """A tenant: its users, roles and settings never leak into another organization."""

    id: str
    slug: str
    name: str
    domains: tuple[str, ...]
    domain_join: DomainJoin
    request_email: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class User:
    """A person; the email is unique across the deployment (lower-cased)."""

    id: str
    email: str
    display_name: str
    password_hash: str | None
    disabled: bool
    email_verified: bool
    created_at: datetime
    password_changed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Membership:
    """A user's role in one organization."""

    org_id: str
    user_id: str
    role: Role
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Invite:
    """An emailed invitation; only the keyed hash of its token is stored."""

    id: str
    org_id: str
    email: str
    role: Role
    token_hash: str
    invited_by: str | None
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None = None
    revoked_at: datetime | None = None
    sent_count: int = 1

    @property
    def is_open(self) -> bool:
        """Neither accepted nor revoked (expiry is checked against a clock)."""
        return self.accepted_at is None and self.revoked_at is None


@dataclass(frozen=True, slots=True)
class JoinRequest:
    """A user's request to join an organization, decided by an admin."""

    id: str
    org_id: str
    user_id: str
    status: RequestStatus
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OneTimeToken:
    """An email verification or password reset token, bound to one user, single use."""

    id: str
    user_id: str
    purpose: TokenPurpose
    token_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One security event; ``details`` never holds a secret."""

    id: str
    at: datetime
    action: str
    actor_id: str | None
    org_id: str | None
    subject: str | None
    ip: str | None
    outcome: str = "success"
    details: dict[str, Any] = field(default_factory=dict)
