"""SSO federation's records: IdP configurations, organization settings, federated identities,
login transactions and one-time codes. Plain frozen dataclasses, no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from authgate.crypto.envelope import SealedSecret


class IdpType(enum.StrEnum):
    """Which kind of OpenID provider a configuration describes."""

    ENTRA = "entra"
    """Microsoft Entra ID: issuer per tenant, identities keyed by tenant and object id."""
    OKTA = "okta"
    OIDC = "oidc"
    """Any OpenID Connect provider."""


class Provisioning(enum.StrEnum):
    """What happens when the IdP vouches for someone who is not a member yet."""

    AUTO = "auto"
    """Just in time: the person becomes a USER (and gets the configured solutions)."""
    INVITE_ONLY = "invite_only"
    """Only someone with an open invite to their email may join."""
    REQUEST_ACCESS = "request_access"
    """A request to join is filed for the organization's admins to approve."""


class LoginKind(enum.StrEnum):
    """What a login transaction ends in."""

    BROKERED = "brokered"
    """authgate ran the loop: a one-time code for the app's redirect URI."""
    DEVICE = "device"
    """The device runs the loop: the transaction is the nonce it must present."""
    LINK = "link"
    """A signed-in user links an IdP account to their own account."""


@dataclass(frozen=True, slots=True)
class Endpoints:
    """An IdP's endpoints given explicitly (instead of discovered from its metadata)."""

    authorization: str
    token: str
    jwks_uri: str
    end_session: str | None = None


@dataclass(frozen=True, slots=True)
class IdpSpec:
    """What an administrator submits to create or replace an IdP configuration."""

    type: IdpType
    issuer: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    """Required on creation; None on a replacement keeps the stored secret."""
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    pkce: bool = True
    nonce: bool = True
    domains: tuple[str, ...] = ()
    tenants: tuple[str, ...] = ()
    endpoints: Endpoints | None = None
    device_client_id: str | None = None
    display_name: str = ""
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class IdpConfig:
    """An organization's IdP. The client secret is sealed by the vault's envelope.

    ``version`` grows with every change; logins and codes in flight are bound to it, and the
    sessions the IdP created end when it changes.
    """

    id: str
    org_id: str
    name: str
    display_name: str
    type: IdpType
    issuer: str
    client_id: str
    device_client_id: str | None
    scopes: tuple[str, ...]
    pkce: bool
    nonce: bool
    domains: tuple[str, ...]
    tenants: tuple[str, ...]
    endpoints: Endpoints | None
    enabled: bool
    version: int
    secret: SealedSecret = field(repr=False)
    secret_version: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def device_audience(self) -> str:
        """The client id the device uses at the IdP (the ID token's audience)."""
        return self.device_client_id or self.client_id


@dataclass(frozen=True, slots=True)
class SsoSettings:
    """An organization's SSO policy."""

    org_id: str
    provisioning: Provisioning = Provisioning.INVITE_ONLY
    enforce_sso: bool = False
    """Members sign in through an IdP only (password sign-in is refused)."""
    solutions: tuple[str, ...] = ()
    """Solutions a person provisioned automatically may use."""
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FederatedIdentity:
    """An IdP account linked to an authgate user: (issuer, subject), or for Entra ID the
    tenant's issuer and the object id."""

    issuer: str
    subject: str
    user_id: str
    idp_id: str | None
    email: str | None
    created_at: datetime
    last_login_at: datetime


@dataclass(frozen=True, slots=True)
class LoginTransaction:
    """One login in flight: single use, expiring, bound to its IdP (and its version).

    Only a keyed hash of the state (or, for the device-run loop, of the nonce) is stored;
    the nonce and the PKCE verifier sent to the IdP are derived from the state with a server
    key, so a database read discloses nothing that completes a login.
    """

    state_hash: str
    kind: LoginKind
    idp_id: str
    org_id: str
    idp_version: int
    created_at: datetime
    expires_at: datetime
    client_id: str | None = None
    redirect_uri: str | None = None
    app_state: str | None = None
    code_challenge: str | None = None
    user_id: str | None = None
    """For LINK: the signed-in user the IdP account is linked to."""


@dataclass(frozen=True, slots=True)
class BrokerCode:
    """The one-time code a brokered login hands to the app, redeemed with PKCE.

    ``session_id`` is the session its redemption creates, so that a second redemption
    can end it (RFC 9700 §4.2.4: a reused code revokes what the first use issued).
    """

    code_hash: str
    user_id: str
    org_id: str
    idp_id: str
    idp_version: int
    client_id: str
    redirect_uri: str
    code_challenge: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class IdTokenClaims:
    """What authgate uses of a validated ID token."""

    issuer: str
    subject: str
    tenant: str | None = None
    object_id: str | None = None
    email: str | None = None
    email_verified: bool = False
    name: str | None = None
    preferred_username: str | None = None

    @property
    def identity_key(self) -> tuple[str, str]:
        """(issuer, subject); Entra ID: (the tenant's issuer, object id), since ``sub`` is
        pairwise per application there."""
        if self.tenant is not None and self.object_id is not None:
            return self.issuer, self.object_id
        return self.issuer, self.subject
