"""The vault's values: credentials (metadata), their kinds, and sealed secret versions."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from authgate.crypto.envelope import SealedSecret


class CredentialKind(enum.StrEnum):
    """What a stored credential holds."""

    SECRET = "secret"
    API_KEY = "api_key"
    BEARER_TOKEN = "bearer_token"
    BASIC = "basic"  # username + password; storable, refused by the cloud proxy
    OAUTH_CLIENT = "oauth_client"  # a provider's client; users connect through it
    SQL_CONNECTION = "sql_connection"  # a connection URL; never sent to a device

    @property
    def goes_over_http(self) -> bool:
        """Whether the credential is sent to HTTP hosts (and so needs allowed hosts)."""
        return self is not CredentialKind.SQL_CONNECTION

    @property
    def secret_fields(self) -> tuple[str, ...]:
        """The fields of the sealed value for this kind."""
        if self is CredentialKind.BASIC:
            return ("username", "password")
        if self is CredentialKind.OAUTH_CLIENT:
            return ("client_secret",)
        return ("value",)


class TokenEndpointAuth(enum.StrEnum):
    """How the client authenticates at the token endpoint (RFC 6749 §2.3.1; the names are
    RFC 7591's ``token_endpoint_auth_method`` values)."""

    CLIENT_SECRET_BASIC = "client_secret_basic"
    CLIENT_SECRET_POST = "client_secret_post"


@dataclass(frozen=True, slots=True)
class OAuthClientConfig:
    """The non-secret part of an ``oauth_client`` credential (its secret is sealed)."""

    authorize_url: str
    token_url: str
    client_id: str
    scopes: tuple[str, ...] = ()
    pkce: bool = True
    extra_authorize_params: tuple[tuple[str, str], ...] = ()
    token_auth: TokenEndpointAuth = TokenEndpointAuth.CLIENT_SECRET_BASIC


@dataclass(frozen=True, slots=True)
class Credential:
    """A credential's metadata: everything but its value.

    ``solution`` is ``None`` for an organization-wide credential. ``version`` is the
    current secret version (1 at creation, +1 per replacement).
    """

    id: str
    org_id: str
    name: str
    kind: CredentialKind
    solution: str | None
    allowed_hosts: tuple[str, ...]
    device_usable: bool
    description: str
    oauth: OAuthClientConfig | None
    created_by: str | None
    created_at: datetime
    updated_by: str | None
    updated_at: datetime
    version: int


@dataclass(frozen=True, slots=True)
class SecretVersion:
    """One sealed version of a credential's value."""

    credential_id: str
    version: int
    sealed: SealedSecret
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SecretFields:
    """A credential's plaintext value fields, in memory only. Never logged, never returned."""

    fields: dict[str, str] = field(repr=False)

    def __getitem__(self, name: str) -> str:
        return self.fields[name]


@dataclass(frozen=True, slots=True)
class CredentialSpec:
    """What an administrator submits to create or replace a credential."""

    kind: CredentialKind
    secret: SecretFields = field(repr=False)
    allowed_hosts: tuple[str, ...] = ()
    solution: str | None = None
    device_usable: bool = False
    description: str = ""
    oauth: OAuthClientConfig | None = None


@dataclass(frozen=True, slots=True)
class WrappedKeyRow:
    """What key rotation needs of one stored data key: its row's identity and the key.

    ``user_id`` is set for a user's connection (``version`` is then its token version) and
    ``None`` for a credential's secret version. ``bound_to`` is set for secrets held outside
    the vault's tables (the apps gateway's): the parts of the associated data they are
    bound to, which the vault cannot derive itself.
    """

    org_id: str
    credential_id: str
    version: int
    sealed: SealedSecret
    user_id: str | None = None
    bound_to: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class UsableCredential:
    """A credential's value for one call, in memory only. Never logged, never returned.

    ``send_as`` is the value of :class:`authgate.functions.ports.CredentialKind` that says
    how the function engine sends it (``secret``, ``api_key``, ``bearer``, ``oauth`` or
    ``basic``); the vault sits below the engine, so the wiring converts it.
    """

    name: str
    send_as: str
    value: str = field(repr=False)
    allowed_hosts: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class UsableSqlConnection:
    """An ``sql_connection`` credential's URL for one call, in memory only. Never logged,
    never returned. ``credential_id`` and ``version`` name the value: SQL functions keep a
    connection pool per credential and recycle it when the version changes."""

    credential_id: str
    version: int
    url: str = field(repr=False)


class ConnectionStatus(enum.StrEnum):
    """Whether a user's OAuth connection can be used, or needs the user's consent again."""

    ACTIVE = "active"
    NEEDS_CONSENT = "needs_consent"


@dataclass(frozen=True, slots=True)
class Connection:
    """A user's tokens for one ``oauth_client`` credential, sealed.

    ``token_version`` grows with every new token set; the sealed tokens are bound to it,
    so an older token set copied back into the row does not open.
    """

    id: str
    org_id: str
    credential_id: str
    user_id: str
    status: ConnectionStatus
    token_version: int
    sealed: SealedSecret
    access_expires_at: datetime | None
    scope: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PendingAuthorization:
    """An authorization started by a user: single-use, expiring, bound to user and credential.

    Only a keyed hash of the ``state`` is stored; the PKCE verifier is derived from the
    state with a server key, so nothing secret about the flow is stored at all.
    """

    state_hash: str
    org_id: str
    credential_id: str
    user_id: str
    redirect_uri: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What a provider's token endpoint answered (RFC 6749 §5.1)."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_in: int | None = None
    scope: str | None = None
