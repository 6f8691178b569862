"""The SQL store: every repository of the user manager and the token service on one database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from authgate.errors import ServiceUnavailable
from authgate.store.audit import SqlAuditLog
from authgate.store.browser_sessions import SqlBrowserSessionRepository
from authgate.store.consents import SqlConsentRepository
from authgate.store.device_codes import SqlDeviceCodeRepository
from authgate.store.federation import SqlFederationRepository
from authgate.store.invites import SqlInviteRepository
from authgate.store.join_requests import SqlJoinRequestRepository
from authgate.store.memberships import SqlMembershipRepository
from authgate.store.migrate import upgrade
from authgate.store.oauth_clients import SqlClientRepository
from authgate.store.oauth_codes import SqlAuthorizationCodeRepository, SqlPushedRequestRepository
from authgate.store.one_time_tokens import SqlOneTimeTokenRepository
from authgate.store.organizations import SqlOrganizationRepository
from authgate.store.refresh_tokens import SqlRefreshTokenRepository
from authgate.store.service_clients import SqlServiceClientRepository
from authgate.store.session import Database
from authgate.store.session_users import SqlSessionUsers
from authgate.store.signed_fetch import SqlNonceStore, SqlRegistryRepository
from authgate.store.signing_keys import SqlSigningKeyRepository
from authgate.store.solutions import SqlSolutionRepository
from authgate.store.users import SqlUserRepository
from authgate.store.vault import SqlVaultRepository

PING_TIMEOUT = 5.0
"""Seconds :meth:`SqlStore.ping` waits for the database before calling it unavailable."""


class SqlStore:
    """Implements :class:`authgate.identity.ports.IdentityStore` and the token ports.

    Calls made on any repository inside :meth:`transaction` share one transaction.
    """

    def __init__(self, db: Database, *, ping_timeout: float = PING_TIMEOUT) -> None:
        self.db = db
        self._ping_timeout = ping_timeout
        self.orgs = SqlOrganizationRepository(db)
        self.users = SqlUserRepository(db)
        self.memberships = SqlMembershipRepository(db)
        self.invites = SqlInviteRepository(db)
        self.join_requests = SqlJoinRequestRepository(db)
        self.one_time_tokens = SqlOneTimeTokenRepository(db)
        self.audit = SqlAuditLog(db)
        self.refresh_tokens = SqlRefreshTokenRepository(db)
        self.signing_keys = SqlSigningKeyRepository(db)
        self.service_clients = SqlServiceClientRepository(db)
        self.vault = SqlVaultRepository(db)
        self.solutions = SqlSolutionRepository(db)
        self.federation = SqlFederationRepository(db)
        self.device_codes = SqlDeviceCodeRepository(db)
        self.signed_fetch = SqlRegistryRepository(db)
        self.nonces = SqlNonceStore(db)
        self.oauth_codes = SqlAuthorizationCodeRepository(db)
        self.pushed_requests = SqlPushedRequestRepository(db)
        self.browser_sessions = SqlBrowserSessionRepository(db)
        self.session_users = SqlSessionUsers(db)
        self.consents = SqlConsentRepository(db)
        self.oauth_clients = SqlClientRepository(db)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Group the calls made inside the block into one transaction (nesting joins it)."""
        async with self.db.transaction():
            yield

    async def ping(self) -> None:
        """Check that the database answers; :class:`ServiceUnavailable` when it does not."""
        timeout = self._ping_timeout
        try:
            async with asyncio.timeout(timeout), self.db.connection(write=False) as conn:
                await conn.execute(text("SELECT 1"))
        except TimeoutError as exc:
            raise ServiceUnavailable(
                f"the database did not answer within {timeout:g} s; check that it is running"
            ) from exc

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.db.dispose()


async def open_store(url: str, *, migrate: bool = False, **engine_options: Any) -> SqlStore:
    """A store on ``url``; with ``migrate=True`` the schema is first brought up to date."""
    if migrate:
        await upgrade(url)
    return SqlStore(Database.from_url(url, **engine_options))


if TYPE_CHECKING:
    from authgate.identity.ports import IdentityStore, SessionRevoker
    from authgate.tokens.ports import (
        RefreshTokenRepository,
        ServiceClientRepository,
        SigningKeyRepository,
    )

    def _implements_the_ports(
        store: SqlStore,
    ) -> tuple[
        IdentityStore,
        RefreshTokenRepository,
        SessionRevoker,
        SigningKeyRepository,
        ServiceClientRepository,
    ]:
        # mypy proves here that the store satisfies every port it is wired into.
        return (
            store,
            store.refresh_tokens,
            store.refresh_tokens,
            store.signing_keys,
            store.service_clients,
        )


if TYPE_CHECKING:
    from authgate.provider.ports import (
        AuthorizationCodeRepository,
        BrowserSessionRepository,
        ConsentRepository,
        PushedRequestRepository,
    )

    def _implements_the_provider_ports(
        store: SqlStore,
    ) -> tuple[
        AuthorizationCodeRepository,
        PushedRequestRepository,
        ConsentRepository,
        BrowserSessionRepository,
    ]:
        # mypy proves here that the provider's repositories satisfy its ports.
        return (store.oauth_codes, store.pushed_requests, store.consents, store.browser_sessions)
