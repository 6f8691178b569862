"""Token records: plain frozen dataclasses, no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from authgate.identity.models import Role


@dataclass(frozen=True, slots=True)
class TokenFamily:
    """A sign-in session: every refresh token rotated from one sign-in shares it (``sid``)."""

    id: str
    user_id: str
    org_id: str
    client_id: str
    scope: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    idp_id: str | None = None
    """The identity provider whose login started the session (SSO), if any."""

    @property
    def is_revoked(self) -> bool:
        """Whether the family was revoked (logout, reuse, password change, …)."""
        return self.revoked_at is not None


@dataclass(frozen=True, slots=True)
class RefreshToken:
    """One refresh token of a family; only its keyed hash is stored."""

    token_hash: str
    family_id: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class RotationOutcome(enum.StrEnum):
    """What presenting a refresh token did."""

    ROTATED = "ROTATED"
    REUSED = "REUSED"
    UNKNOWN = "UNKNOWN"
    OTHER_CLIENT = "OTHER_CLIENT"
    """The token was issued to another client: nothing was spent or revoked."""


@dataclass(frozen=True, slots=True)
class Rotation:
    """Result of :meth:`RefreshTokenRepository.rotate` and ``rotate_for_client``."""

    outcome: RotationOutcome
    family: TokenFamily | None
    role: Role | None = None
    """From ``rotate_for_client`` when ROTATED: the user's current role in the family's
    organization, None when access was withdrawn (disabled, not a member, or DENY)."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A signing key (Ed25519 for ``EdDSA``, RSA for ``RS256``); the private half is stored
    encrypted, never in the JWKS."""

    kid: str
    algorithm: str
    public_jwk: dict[str, Any]
    private_key_sealed: bytes
    created_at: datetime
    retired_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ServiceClient:
    """A confidential client that uses the client-credentials grant for one organization."""

    client_id: str
    org_id: str
    name: str
    secret_hash: str
    scopes: tuple[str, ...]
    created_at: datetime
    disabled: bool = False
