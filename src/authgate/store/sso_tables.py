"""The SSO federation's tables: settings, identity providers, linked identities, logins, codes.

Registered in the shared :data:`authgate.store.schema.metadata`; :mod:`authgate.store.tables`
imports this module, so importing that one registers every table.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from authgate.federation.models import IdpType, LoginKind, Provisioning
from authgate.store.schema import EMAIL, HASH, ID, metadata
from authgate.store.schema import fk as _fk
from authgate.store.types import JsonType, StrEnumType, UtcDateTime

# --- SSO federation ---------------------------------------------------------------------
# An organization's IdPs (the client secret sealed like the vault's, by the same envelope),
# its SSO settings, IdP accounts linked to users by (issuer, subject), and logins and
# one-time codes in flight (state, nonce and codes only as keyed hashes).

sso_settings = Table(
    "sso_settings",
    metadata,
    _fk("org_id", "organizations.id", primary_key=True),
    Column("provisioning", StrEnumType(Provisioning), nullable=False),
    Column("enforce_sso", Boolean, nullable=False),
    Column("solutions", JsonType, nullable=False),
    Column("updated_at", UtcDateTime()),
)

sso_idps = Table(
    "sso_idps",
    metadata,
    Column("id", String(ID), primary_key=True),
    _fk("org_id", "organizations.id"),
    Column("name", String(64), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("type", StrEnumType(IdpType), nullable=False),
    Column("issuer", String(2048), nullable=False),
    Column("client_id", String(255), nullable=False),
    Column("device_client_id", String(255)),
    Column("scopes", JsonType, nullable=False),
    Column("pkce", Boolean, nullable=False),
    Column("nonce", Boolean, nullable=False),
    Column("domains", JsonType, nullable=False),
    Column("tenants", JsonType, nullable=False),
    Column("endpoints", JsonType),
    Column("enabled", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("kek_id", String(64), nullable=False),
    Column("secret_version", Integer, nullable=False),
    _fk("created_by", "users.id", on_delete="SET NULL"),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("org_id", "name"),
    Index(None, "kek_id"),
)

sso_identities = Table(
    "sso_identities",
    metadata,
    Column("issuer", String(2048), primary_key=True),
    Column("subject", String(255), primary_key=True),
    _fk("user_id", "users.id"),
    _fk("idp_id", "sso_idps.id", on_delete="SET NULL"),
    Column("email", String(EMAIL)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_login_at", UtcDateTime(), nullable=False),
    Index(None, "user_id"),
)

sso_logins = Table(
    "sso_logins",
    metadata,
    Column("state_hash", String(HASH), primary_key=True),
    Column("kind", StrEnumType(LoginKind), nullable=False),
    _fk("idp_id", "sso_idps.id"),
    _fk("org_id", "organizations.id"),
    Column("idp_version", Integer, nullable=False),
    Column("client_id", String(200)),
    Column("redirect_uri", Text),
    Column("app_state", String(512)),
    Column("code_challenge", String(64)),
    _fk("user_id", "users.id", on_delete="CASCADE", nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Index(None, "expires_at"),
)

sso_codes = Table(
    "sso_codes",
    metadata,
    Column("code_hash", String(HASH), primary_key=True),
    _fk("user_id", "users.id"),
    _fk("org_id", "organizations.id"),
    _fk("idp_id", "sso_idps.id"),
    Column("idp_version", Integer, nullable=False),
    Column("client_id", String(200), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("code_challenge", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime()),
    Column("session_id", String(ID)),
    Index(None, "expires_at"),
)

SSO_TABLES = (sso_settings, sso_idps, sso_identities, sso_logins, sso_codes)
"""Every table of this module."""
