"""Device authorization records, their storage port, user codes and the grant's errors.

RFC 8628 (OAuth 2.0 Device Authorization Grant). A device asks for a ``device_code`` and a
short ``user_code`` (§3.2); a person enters the user code on another screen and allows or
denies it (§3.3); the device polls the token endpoint with the device code (§3.4) and gets
``authorization_pending``, ``slow_down``, ``expired_token`` or ``access_denied`` (§3.5)
until the decision is made. Both codes are stored only as keyed hashes.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from authgate.errors import OAuthError

USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
"""RFC 8628 §6.1: consonants only (no vowels, so no words), easy to type on any keyboard."""
USER_CODE_LENGTH = 8
"""20^8 ≈ 2^34.6 codes; with a 10-minute lifetime and throttled entry, enough (§5.1)."""


class DeviceCodeStatus(enum.StrEnum):
    """Where an authorization stands."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


@dataclass(frozen=True, slots=True)
class DeviceAuthorization:
    """One device authorization request (RFC 8628 §3.1), by the hashes of its codes.

    ``user_id`` and ``org_id`` are set when a person allowed it; ``redeemed_at`` when the
    device received its tokens (one time only). ``last_polled_at`` serves ``slow_down``.
    """

    id: str
    device_code_hash: str
    user_code_hash: str
    client_id: str
    scope: str | None
    status: DeviceCodeStatus
    interval: int
    created_at: datetime
    expires_at: datetime
    user_id: str | None = None
    org_id: str | None = None
    decided_at: datetime | None = None
    last_polled_at: datetime | None = None
    redeemed_at: datetime | None = None


class DeviceCodeRepository(Protocol):
    """Where device authorizations are kept (each change one conditional statement)."""

    async def create(self, authorization: DeviceAuthorization) -> None:
        """Insert a new authorization."""
        ...

    async def by_device_code(self, device_code_hash: str) -> DeviceAuthorization | None:
        """By the keyed hash of the device code."""
        ...

    async def by_user_code(self, user_code_hash: str) -> DeviceAuthorization | None:
        """By the keyed hash of the normalised user code."""
        ...

    async def decide(
        self,
        authorization_id: str,
        status: DeviceCodeStatus,
        user_id: str,
        org_id: str | None,
        at: datetime,
    ) -> bool:
        """Record the decision if the authorization is still pending; True when this did."""
        ...

    async def polled(self, authorization_id: str, at: datetime) -> datetime | None:
        """Set ``last_polled_at`` to ``at`` and return what it was before."""
        ...

    async def redeem(self, authorization_id: str, at: datetime) -> bool:
        """Mark an approved authorization redeemed; True for the one caller that did."""
        ...

    async def prune(self, expired_before: datetime) -> int:
        """Delete authorizations that expired before ``expired_before``."""
        ...


def new_user_code() -> str:
    """A fresh user code, shown as ``XXXX-XXXX``."""
    code = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
    return f"{code[:4]}-{code[4:]}"


def normalise_user_code(text: str) -> str:
    """The user code as typed, without dashes and spaces, upper case (§6.1: forgiving)."""
    return "".join(ch for ch in text.upper() if ch.isalnum())[: USER_CODE_LENGTH * 2]


class AuthorizationPending(OAuthError):
    """RFC 8628 §3.5 ``authorization_pending``: nobody has decided yet; poll again."""

    code = "authorization_pending"


class SlowDown(OAuthError):
    """RFC 8628 §3.5 ``slow_down``: polled too often; add 5 seconds to the interval."""

    code = "slow_down"


class ExpiredToken(OAuthError):
    """RFC 8628 §3.5 ``expired_token``: the device code expired; start again."""

    code = "expired_token"


class AccessDenied(OAuthError):
    """RFC 8628 §3.5 ``access_denied``: the person denied the request."""

    code = "access_denied"
