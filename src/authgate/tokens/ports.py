"""The narrow async interfaces the token service needs; adapters in ``store/``."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from authgate.identity.models import Role
from authgate.identity.ports import SessionRevoker
from authgate.tokens.models import (
    RefreshToken,
    Rotation,
    ServiceClient,
    SigningKey,
    TokenFamily,
)


class RefreshTokenRepository(SessionRevoker, Protocol):
    """Token families and their refresh tokens (stored as keyed hashes).

    It ends sessions for the user manager too (:class:`SessionRevoker`).
    """

    async def create_family(self, family: TokenFamily, first: RefreshToken) -> None:
        """Insert a new family with its first token."""

    async def find(self, token_hash: str) -> tuple[TokenFamily, RefreshToken] | None:
        """A token and its family, by hash."""

    async def find_with_role(
        self, token_hash: str
    ) -> tuple[TokenFamily, RefreshToken, Role | None] | None:
        """:meth:`find`, plus the role the user holds now in the family's organization:
        None when the user is disabled, not a member, or DENY (one read for a refresh)."""

    async def get_family(self, family_id: str) -> TokenFamily | None:
        """By id (``sid``)."""

    async def rotate(self, token_hash: str, successor: RefreshToken, at: datetime) -> Rotation:
        """Atomically spend ``token_hash`` and insert ``successor`` into the same family.

        ROTATED when this call spent an unspent token of a live family; REUSED when the token
        was already spent, in which case the whole family is revoked (reason ``reuse``) in the
        same transaction; UNKNOWN when no such token exists or its family is revoked. Two
        concurrent calls with one token never both rotate.
        """

    async def rotate_for_client(
        self, token_hash: str, client_id: str, successor: RefreshToken, at: datetime
    ) -> Rotation:
        """:meth:`rotate` for the refresh grant, reading the user's access in the same step.

        It spends the token only when its family was issued to ``client_id``; otherwise the
        outcome is OTHER_CLIENT and nothing is spent or revoked. ROTATED carries the user's
        current role in the family's organization (:attr:`Rotation.role`); when that is None
        (user disabled, not a member, or DENY) the token is spent but no successor is
        stored, and the caller must end the session. The successor joins the presented
        token's family whatever its ``family_id`` says, and expires no later than the family.
        REUSED and UNKNOWN are as for :meth:`rotate`. On PostgreSQL the common case is one
        statement.
        """

    async def prune(self, ended_before: datetime) -> int:
        """Delete sessions that expired or were revoked before ``ended_before``.

        Their spent tokens go too, so a replay of one is afterwards refused as unknown
        rather than detected as reuse: keep ``ended_before`` well in the past.
        """

    async def revoke_family(self, family_id: str, reason: str, at: datetime) -> bool:
        """Revoke one family; True when it was live."""


class SigningKeyRepository(Protocol):
    """The signing keys; published in the JWKS until their tokens have expired."""

    async def add(self, key: SigningKey) -> None:
        """Insert a key."""

    async def list(self) -> list[SigningKey]:
        """Every stored key, newest first."""

    async def retire(self, kid: str, at: datetime) -> None:
        """Stop signing with this key (it stays published for verification)."""

    async def delete(self, kid: str) -> None:
        """Remove a key once no token it signed can still be valid."""


class ServiceClientRepository(Protocol):
    """Service clients for the client-credentials grant."""

    async def create(self, client: ServiceClient) -> None:
        """Insert; raises :class:`authgate.errors.Conflict` when the client id is taken."""

    async def get(self, client_id: str) -> ServiceClient | None:
        """By client id."""

    async def list_for_org(self, org_id: str) -> list[ServiceClient]:
        """An organization's clients, by name."""

    async def update(self, client: ServiceClient) -> None:
        """Replace name, secret_hash, scopes and disabled."""

    async def delete(self, client_id: str) -> bool:
        """Remove; True when one existed."""


class PasswordSignInPolicy(Protocol):
    """Whether an organization lets its members sign in with a password (SSO may forbid it)."""

    async def check_password_sign_in(self, org_id: str) -> None:
        """Raise an :class:`authgate.errors.AuthgateError` when password sign-in is refused."""
