"""What SSO federation needs from outside: storage (``store/federation.py``), the IdP's HTTP
endpoints (``egress/oidc_client.py``), and the solutions a provisioned person gets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from authgate.federation.models import (
    BrokerCode,
    FederatedIdentity,
    IdpConfig,
    LoginTransaction,
    SsoSettings,
)
from authgate.identity.models import Membership, Organization, User


@dataclass(frozen=True, slots=True)
class MemberView:
    """What signing someone in through an IdP needs, read at once: the IdP's current version,
    its organization (without its domains), and the person's link, user and membership."""

    idp_version: int
    idp_enabled: bool
    org: Organization
    identity: FederatedIdentity | None
    user: User | None
    membership: Membership | None


class FederationRepository(Protocol):
    """IdP configurations, settings, identities, login transactions and one-time codes."""

    async def create_idp(self, idp: IdpConfig) -> None:
        """Insert; :class:`authgate.errors.Conflict` when the organization has the name."""
        ...

    async def replace_idp(self, idp: IdpConfig, *, expected_version: int) -> None:
        """Store ``idp`` if the stored version is still ``expected_version`` (else
        :class:`authgate.errors.Conflict`)."""
        ...

    async def get_idp(self, idp_id: str) -> IdpConfig | None:
        """By id."""
        ...

    async def find_idp(self, org_id: str, name: str) -> IdpConfig | None:
        """By organization and name."""
        ...

    async def list_idps(self, org_id: str) -> list[IdpConfig]:
        """An organization's IdPs, by name."""
        ...

    async def list_idps_for_orgs(self, org_ids: list[str]) -> list[IdpConfig]:
        """The IdPs of several organizations, by organization then name."""
        ...

    async def delete_idp(self, idp_id: str) -> bool:
        """Remove (with its logins and codes in flight); True when it existed."""
        ...

    async def end_sessions(self, idp_id: str, reason: str, at: datetime) -> int:
        """Revoke every live session the IdP created; how many."""
        ...

    async def get_settings(self, org_id: str) -> SsoSettings | None:
        """The organization's SSO settings, if it saved any."""
        ...

    async def put_settings(self, settings: SsoSettings) -> None:
        """Insert or replace the organization's SSO settings."""
        ...

    async def get_identity(self, issuer: str, subject: str) -> FederatedIdentity | None:
        """The link of an IdP account, by (issuer, subject)."""
        ...

    async def add_identity(self, identity: FederatedIdentity) -> None:
        """Insert; :class:`authgate.errors.Conflict` when the IdP account is linked already."""
        ...

    async def touch_identity(self, issuer: str, subject: str, at: datetime) -> None:
        """Record a sign-in with the linked IdP account."""
        ...

    async def list_identities(self, user_id: str) -> list[FederatedIdentity]:
        """Every IdP account linked to a user."""
        ...

    async def member_view(
        self,
        idp_id: str,
        *,
        issuer: str | None = None,
        subject: str | None = None,
        user_id: str | None = None,
    ) -> MemberView | None:
        """The IdP's version and organization with the person named by the IdP account
        (issuer, subject) or by ``user_id``; None when there is no such IdP."""
        ...

    async def add_transaction(self, transaction: LoginTransaction) -> None:
        """Record a login about to start."""
        ...

    async def take_transaction(self, state_hash: str, now: datetime) -> LoginTransaction | None:
        """The login, consumed: a second take, or one after expiry, is None."""
        ...

    async def add_code(self, code: BrokerCode) -> None:
        """Record a one-time code handed to an app."""
        ...

    async def spend_code(self, code_hash: str, now: datetime, session_id: str) -> BrokerCode | None:
        """Mark an unspent, unexpired code used by the session ``session_id`` and return it;
        None when there is no such code or it was spent or expired (two concurrent
        redemptions never both succeed)."""
        ...

    async def get_code(self, code_hash: str) -> BrokerCode | None:
        """A code whatever its state (to tell a replay from an unknown code)."""
        ...

    async def prune(self, before: datetime) -> int:
        """Delete logins and codes that expired before ``before``; how many."""
        ...


@dataclass(frozen=True, slots=True)
class TokenAnswer:
    """What the IdP's token endpoint answered (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3)."""

    id_token: str = field(repr=False)
    scope: str | None = None


class IdpClient(Protocol):
    """An IdP's HTTP endpoints, reached through the SSRF-safe egress client."""

    async def fetch_json(self, url: str, what: str) -> dict[str, Any]:
        """GET a JSON object (metadata, JWKS); :class:`IdpUnavailable` when it cannot."""
        ...

    async def exchange_code(
        self,
        token_endpoint: str,
        *,
        client_id: str,
        client_secret: str,
        secret_in_body: bool,
        code: str,
        redirect_uri: str,
        code_verifier: str | None,
    ) -> TokenAnswer:
        """RFC 6749 §4.1.3: the tokens for an authorization code.

        :class:`SsoLoginFailed` when the IdP refuses the code, :class:`IdpClientRejected`
        when it refuses the client, :class:`IdpUnavailable` otherwise.
        """
        ...


class SolutionGranter(Protocol):
    """Gives a provisioned person the organization's configured solutions."""

    async def grant_user(self, org_id: str, solution: str, user_id: str) -> bool:
        """Make the user a USER of the solution; False when the solution does not exist."""
        ...
