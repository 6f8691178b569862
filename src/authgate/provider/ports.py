"""The narrow async interfaces the provider needs; adapters in ``store/``."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from authgate.identity.models import User
from authgate.provider.models import (
    AuthorizationCode,
    BrowserSession,
    Consent,
    OAuthClient,
    PushedRequest,
)


class ClientRepository(Protocol):
    """Registered OAuth clients."""

    async def create(self, client: OAuthClient) -> None:
        """Insert; raises :class:`authgate.errors.Conflict` when the client id is taken."""

    async def get(self, client_id: str) -> OAuthClient | None:
        """By client id."""

    async def list_for_org(self, org_id: str) -> list[OAuthClient]:
        """An organization's clients, by name."""

    async def update(self, client: OAuthClient) -> None:
        """Replace every field but ``client_id``, ``org_id`` and ``created_at``."""

    async def delete(self, client_id: str) -> bool:
        """Remove the client, its codes, consents and pushed requests, and revoke the
        sessions issued to it; True when one existed."""


class AuthorizationCodeRepository(Protocol):
    """One-time authorization codes (stored as keyed hashes)."""

    async def add(self, code: AuthorizationCode) -> None:
        """Insert a new code."""

    async def spend(
        self, code_hash: str, at: datetime, session_id: str
    ) -> AuthorizationCode | None:
        """Atomically mark an unexpired, unused code used and record the session it starts.

        None when the code is unknown, expired or already used; of two concurrent calls
        with one code, at most one gets it.
        """

    async def get(self, code_hash: str) -> AuthorizationCode | None:
        """A code, used or not (to find what a reused code issued)."""

    async def prune(self, before: datetime) -> int:
        """Delete codes that expired before ``before``."""


class PushedRequestRepository(Protocol):
    """Pushed authorization requests (RFC 9126), single use."""

    async def add(self, pushed: PushedRequest) -> None:
        """Insert."""

    async def take(self, uri_hash: str, at: datetime) -> PushedRequest | None:
        """Remove and return an unexpired request; None when unknown, expired or taken."""


class ConsentRepository(Protocol):
    """What users allowed which clients."""

    async def get(self, user_id: str, client_id: str) -> Consent | None:
        """One user's consent for one client."""

    async def put(self, consent: Consent) -> None:
        """Insert or replace (the pair ``user_id``, ``client_id`` is the key)."""

    async def list_for_user(self, user_id: str) -> list[tuple[Consent, OAuthClient]]:
        """A user's consents with their clients, by client name."""

    async def list_for_client(self, client_id: str) -> list[tuple[Consent, User]]:
        """A client's consents with their users, by email."""

    async def revoke(self, user_id: str, client_id: str, at: datetime) -> bool:
        """Delete the consent and revoke every live session (refresh-token family) the
        client holds for the user, in one transaction; True when a consent existed."""


class BrowserSessionRepository(Protocol):
    """People signed in at authgate's pages, and the app sessions each one started."""

    async def create(self, session: BrowserSession) -> None:
        """Insert."""

    async def find(self, secret_hash: str) -> BrowserSession | None:
        """By the keyed hash of the cookie's secret."""

    async def get(self, session_id: str) -> BrowserSession | None:
        """By id (the ID token's ``sid``)."""

    async def link(self, session_id: str, family_id: str) -> None:
        """Record that an app session (refresh-token family) started from this one."""

    async def end(self, session_id: str, at: datetime) -> int:
        """End the browser session and revoke every live family linked to it (reason
        ``logout``); returns how many families were revoked."""

    async def end_for_user(self, user_id: str, at: datetime) -> int:
        """End every browser session of a user (password change, disable); how many."""


class SessionUsers(Protocol):
    """The person behind an app session (userinfo's one read)."""

    async def live_user(self, session_id: str, user_id: str, at: datetime) -> User | None:
        """The enabled user when ``session_id`` is their live session, else None."""
