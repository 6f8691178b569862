"""Builders of domain records with unique ids, for the storage contract tests."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from authgate.identity.models import (
    AuditEvent,
    DomainJoin,
    Invite,
    JoinRequest,
    OneTimeToken,
    Organization,
    RequestStatus,
    Role,
    TokenPurpose,
    User,
)
from authgate.tokens.models import RefreshToken, ServiceClient, SigningKey, TokenFamily

NOW = datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def new_id(prefix: str = "id") -> str:
    """A unique id."""
    return f"{prefix}_{secrets.token_hex(8)}"


def org(slug: str | None = None, domains: tuple[str, ...] = (), **kw: object) -> Organization:
    """An organization."""
    values: dict[str, object] = {
        "id": new_id("org"),
        "slug": slug or new_id("slug"),
        "name": "Example Org",
        "domains": domains,
        "domain_join": DomainJoin.MANUAL,
        "request_email": None,
        "created_at": NOW,
    }
    values.update(kw)
    return Organization(**values)  # type: ignore[arg-type]


def user(email: str | None = None, **kw: object) -> User:
    """A user."""
    values: dict[str, object] = {
        "id": new_id("usr"),
        "email": email or f"{new_id('u')}@example.com",
        "display_name": "Ada",
        "password_hash": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        "disabled": False,
        "email_verified": True,
        "created_at": NOW,
    }
    values.update(kw)
    return User(**values)  # type: ignore[arg-type]


def invite(org_id: str, **kw: object) -> Invite:
    """An open invitation into ``org_id``."""
    values: dict[str, object] = {
        "id": new_id("inv"),
        "org_id": org_id,
        "email": f"{new_id('i')}@example.com",
        "role": Role.USER,
        "token_hash": secrets.token_hex(32),
        "invited_by": None,
        "created_at": NOW,
        "expires_at": NOW + DAY,
    }
    values.update(kw)
    return Invite(**values)  # type: ignore[arg-type]


def join_request(org_id: str, user_id: str, **kw: object) -> JoinRequest:
    """A pending request to join."""
    values: dict[str, object] = {
        "id": new_id("req"),
        "org_id": org_id,
        "user_id": user_id,
        "status": RequestStatus.PENDING,
        "created_at": NOW,
    }
    values.update(kw)
    return JoinRequest(**values)  # type: ignore[arg-type]


def one_time_token(
    user_id: str, purpose: TokenPurpose = TokenPurpose.RESET_PASSWORD
) -> OneTimeToken:
    """An unused one-time token."""
    return OneTimeToken(
        id=new_id("ott"),
        user_id=user_id,
        purpose=purpose,
        token_hash=secrets.token_hex(32),
        created_at=NOW,
        expires_at=NOW + HOUR,
    )


def audit_event(org_id: str | None, at: datetime = NOW, **kw: object) -> AuditEvent:
    """An audit event."""
    values: dict[str, object] = {
        "id": new_id("evt"),
        "at": at,
        "action": "user.signin",
        "actor_id": None,
        "org_id": org_id,
        "subject": "user:1",
        "ip": "203.0.113.9",
        "details": {"method": "password", "attempt": 1},
    }
    values.update(kw)
    return AuditEvent(**values)  # type: ignore[arg-type]


def family(user_id: str, org_id: str, **kw: object) -> TokenFamily:
    """A live token family."""
    values: dict[str, object] = {
        "id": new_id("fam"),
        "user_id": user_id,
        "org_id": org_id,
        "client_id": "authgate-cli",
        "scope": "openid offline_access",
        "created_at": NOW,
        "expires_at": NOW + 30 * DAY,
    }
    values.update(kw)
    return TokenFamily(**values)  # type: ignore[arg-type]


def refresh_token(family_id: str, **kw: object) -> RefreshToken:
    """An unspent refresh token of ``family_id``."""
    values: dict[str, object] = {
        "token_hash": secrets.token_hex(32),
        "family_id": family_id,
        "created_at": NOW,
        "expires_at": NOW + 14 * DAY,
    }
    values.update(kw)
    return RefreshToken(**values)  # type: ignore[arg-type]


def signing_key(created_at: datetime = NOW) -> SigningKey:
    """A signing key with a sealed private half."""
    kid = new_id("kid")
    return SigningKey(
        kid=kid,
        algorithm="EdDSA",
        public_jwk={"kty": "OKP", "crv": "Ed25519", "x": secrets.token_urlsafe(32), "kid": kid},
        private_key_sealed=secrets.token_bytes(72) + b"\x00\xff",
        created_at=created_at,
    )


def service_client(org_id: str, name: str = "reporting", **kw: object) -> ServiceClient:
    """A service client of ``org_id``."""
    values: dict[str, object] = {
        "client_id": new_id("svc"),
        "org_id": org_id,
        "name": name,
        "secret_hash": secrets.token_hex(32),
        "scopes": ("reports:read", "users:read"),
        "created_at": NOW,
    }
    values.update(kw)
    return ServiceClient(**values)  # type: ignore[arg-type]
