"""What the user-manager services share: the store, the hasher, the mailer, the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from authgate.clock import Clock
from authgate.crypto.keyed_hash import KeyedHasher
from authgate.crypto.randomness import new_id
from authgate.identity.models import AuditEvent
from authgate.identity.ports import IdentityStore, Mailer, PasswordHasher, SessionRevoker


@dataclass(frozen=True, slots=True)
class Actor:
    """Who does something, from where (for authorization and the audit log)."""

    user_id: str | None
    ip: str | None = None


@dataclass(frozen=True, slots=True)
class IdentityDeps:
    """Built once in ``authgate.app`` and shared by every user-manager service."""

    store: IdentityStore
    hasher: PasswordHasher
    mailer: Mailer
    keyed: KeyedHasher
    sessions: SessionRevoker
    clock: Clock
    public_url: str
    invite_ttl: int
    verification_ttl: int
    reset_ttl: int

    def now(self) -> datetime:
        """The current time."""
        return self.clock()

    async def audit(
        self,
        action: str,
        actor: Actor,
        *,
        org_id: str | None = None,
        subject: str | None = None,
        outcome: str = "success",
        **details: str,
    ) -> None:
        """Append a security event; callers pass identifiers, never secrets."""
        await self.store.audit.append(
            AuditEvent(
                id=new_id(),
                at=self.now(),
                action=action,
                actor_id=actor.user_id,
                org_id=org_id,
                subject=subject,
                ip=actor.ip,
                outcome=outcome,
                details=dict(details),
            )
        )

    def link(self, path: str) -> str:
        """An absolute link into this deployment (for emails)."""
        return f"{self.public_url}{path}"
