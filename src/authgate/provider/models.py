"""The provider's records: plain frozen dataclasses, no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class ClientType(enum.StrEnum):
    """RFC 6749 §2.1: whether the client can keep a secret."""

    CONFIDENTIAL = "confidential"
    PUBLIC = "public"


class ApplicationType(enum.StrEnum):
    """OpenID Connect Dynamic Client Registration §2: a web app or a native app.

    A native app may use loopback redirect URIs on any port (RFC 8252 §7.3) and private-use
    URI schemes (RFC 8252 §7.1); a web app only https (or http on loopback, for development).
    """

    WEB = "web"
    NATIVE = "native"


class GrantType(enum.StrEnum):
    """The grants a client may be allowed."""

    AUTHORIZATION_CODE = "authorization_code"
    REFRESH_TOKEN = "refresh_token"
    CLIENT_CREDENTIALS = "client_credentials"
    DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"


class AuthMethod(enum.StrEnum):
    """Token endpoint client authentication (RFC 7591 §2)."""

    CLIENT_SECRET_BASIC = "client_secret_basic"
    CLIENT_SECRET_POST = "client_secret_post"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """A third-party app registered by an organization's admins (or dynamically)."""

    client_id: str
    org_id: str
    name: str
    client_type: ClientType
    application_type: ApplicationType
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    grant_types: tuple[GrantType, ...]
    scopes: tuple[str, ...]
    """The scopes the client may ask for."""
    token_endpoint_auth_method: AuthMethod
    id_token_signed_response_alg: str
    """``RS256`` (OpenID Connect's default) or ``EdDSA``."""
    secret_hash: str | None
    """Keyed hash of the client secret; None for public clients."""
    logo_uri: str | None
    created_at: datetime
    updated_at: datetime
    disabled: bool = False
    dynamic: bool = False
    """Registered through RFC 7591 dynamic client registration."""

    @property
    def is_public(self) -> bool:
        """A public client: no secret, PKCE required."""
        return self.client_type is ClientType.PUBLIC

    def allows(self, grant: GrantType) -> bool:
        """Whether the client may use ``grant``."""
        return grant in self.grant_types


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    """A one-time authorization code (RFC 6749 §4.1.2); only its keyed hash is stored."""

    code_hash: str
    client_id: str
    redirect_uri: str
    user_id: str
    org_id: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    """RFC 7636 S256 challenge; None only for a confidential client that sent none."""
    auth_time: datetime
    acr: str
    amr: tuple[str, ...]
    browser_session_id: str
    idp_id: str | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    session_id: str | None = None
    """The refresh-token family the first exchange started (revoked when the code is
    presented again, RFC 6749 §4.1.2)."""


@dataclass(frozen=True, slots=True)
class PushedRequest:
    """A pushed authorization request (RFC 9126), referred to by its ``request_uri``."""

    uri_hash: str
    client_id: str
    parameters: dict[str, str]
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Consent:
    """What a user allowed a client, remembered until the user or an admin revokes it."""

    user_id: str
    client_id: str
    org_id: str
    scope: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class BrowserSession:
    """A person signed in at authgate's own pages (the cookie holds a secret whose keyed
    hash is stored). It lets a later authorization skip the sign-in (``prompt``,
    ``max_age``), and RP-initiated logout ends it with the app sessions it started."""

    id: str
    secret_hash: str
    user_id: str
    auth_time: datetime
    acr: str
    amr: tuple[str, ...]
    idp_id: str | None
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None

    def is_live(self, now: datetime) -> bool:
        """Not ended and not expired."""
        return self.ended_at is None and self.expires_at > now
