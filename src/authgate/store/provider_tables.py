"""The OAuth provider's tables: clients, codes, pushed requests, consents, browser sessions.

Registered in the shared :data:`authgate.store.schema.metadata`; :mod:`authgate.store.tables`
imports this module, so importing that one registers every table. Secrets (client secrets,
codes, request URIs, browser-session cookies) are stored only as keyed hashes.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, String, Table, Text

from authgate.provider.models import ApplicationType, AuthMethod, ClientType
from authgate.store.schema import HASH, ID, metadata
from authgate.store.schema import fk as _fk
from authgate.store.types import JsonType, StrEnumType, UtcDateTime

CLIENT_ID = 128


def _client(*, primary_key: bool = False) -> Column[str]:
    """The client a row belongs to: it goes when the client is deleted."""
    target = ForeignKey("oauth_clients.client_id", ondelete="CASCADE")
    return Column("client_id", String(CLIENT_ID), target, nullable=False, primary_key=primary_key)


oauth_clients = Table(
    "oauth_clients",
    metadata,
    Column("client_id", String(CLIENT_ID), primary_key=True),
    _fk("org_id", "organizations.id"),
    Column("name", String(200), nullable=False),
    Column("client_type", StrEnumType(ClientType), nullable=False),
    Column("application_type", StrEnumType(ApplicationType), nullable=False),
    Column("redirect_uris", JsonType, nullable=False),
    Column("post_logout_redirect_uris", JsonType, nullable=False),
    Column("grant_types", JsonType, nullable=False),
    Column("scopes", JsonType, nullable=False),
    Column("token_endpoint_auth_method", StrEnumType(AuthMethod, 32), nullable=False),
    Column("id_token_signed_response_alg", String(16), nullable=False),
    Column("secret_hash", String(HASH)),
    Column("logo_uri", String(2048)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("dynamic", Boolean, nullable=False),
    Index(None, "org_id"),
)

oauth_codes = Table(
    "oauth_codes",
    metadata,
    Column("code_hash", String(HASH), primary_key=True),
    _client(),
    Column("redirect_uri", String(2048), nullable=False),
    _fk("user_id", "users.id"),
    _fk("org_id", "organizations.id"),
    Column("scope", Text, nullable=False),
    Column("nonce", String(512)),
    Column("code_challenge", String(128)),
    Column("auth_time", UtcDateTime(), nullable=False),
    Column("acr", String(128), nullable=False),
    Column("amr", JsonType, nullable=False),
    Column("browser_session_id", String(ID), nullable=False),
    Column("idp_id", String(ID)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime()),
    Column("session_id", String(ID)),
    Index(None, "expires_at"),
)

oauth_pushed_requests = Table(
    "oauth_pushed_requests",
    metadata,
    Column("uri_hash", String(HASH), primary_key=True),
    _client(),
    Column("parameters", JsonType, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Index(None, "expires_at"),
)

oauth_consents = Table(
    "oauth_consents",
    metadata,
    _fk("user_id", "users.id", primary_key=True),
    _client(primary_key=True),
    _fk("org_id", "organizations.id"),
    Column("scope", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index(None, "client_id"),
)

browser_sessions = Table(
    "browser_sessions",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("secret_hash", String(HASH), nullable=False, unique=True),
    _fk("user_id", "users.id"),
    Column("auth_time", UtcDateTime(), nullable=False),
    Column("acr", String(128), nullable=False),
    Column("amr", JsonType, nullable=False),
    Column("idp_id", String(ID)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("ended_at", UtcDateTime()),
    Index(None, "user_id"),
    Index(None, "expires_at"),
)

browser_session_families = Table(
    "browser_session_families",
    metadata,
    _fk("family_id", "token_families.id", primary_key=True),
    _fk("browser_session_id", "browser_sessions.id"),
    Index(None, "browser_session_id"),
)

PROVIDER_TABLES = (
    oauth_clients,
    oauth_codes,
    oauth_pushed_requests,
    oauth_consents,
    browser_sessions,
    browser_session_families,
)
"""Every table of this module."""
