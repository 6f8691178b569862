"""The OAuth 2.0 / OpenID provider: clients, codes, pushed requests, consents, browser
sessions; joins the federation (0006) and device authorization (0007) branches.

Revision ID: 0008
Revises: 0006, 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | Sequence[str] | None = ("0006", "0007")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported, so this revision never changes with the code.
ID = sa.String(64)
HASH = sa.String(128)
CLIENT_ID = sa.String(128)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(
    table: str, column: str, target: str, on_delete: str = "CASCADE"
) -> sa.ForeignKeyConstraint:
    name = f"fk_{table}_{column}_{target.partition('.')[0]}"
    return sa.ForeignKeyConstraint([column], [target], name=name, ondelete=on_delete)


def upgrade() -> None:
    """Create the provider's tables."""
    op.create_table(
        "oauth_clients",
        sa.Column("client_id", CLIENT_ID, nullable=False),
        sa.Column("org_id", ID, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("client_type", sa.String(16), nullable=False),
        sa.Column("application_type", sa.String(16), nullable=False),
        sa.Column("redirect_uris", JSON, nullable=False),
        sa.Column("post_logout_redirect_uris", JSON, nullable=False),
        sa.Column("grant_types", JSON, nullable=False),
        sa.Column("scopes", JSON, nullable=False),
        sa.Column("token_endpoint_auth_method", sa.String(32), nullable=False),
        sa.Column("id_token_signed_response_alg", sa.String(16), nullable=False),
        sa.Column("secret_hash", HASH, nullable=True),
        sa.Column("logo_uri", sa.String(2048), nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("dynamic", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name="pk_oauth_clients"),
        _fk("oauth_clients", "org_id", "organizations.id"),
    )
    op.create_index("ix_oauth_clients_org_id", "oauth_clients", ["org_id"])
    op.create_table(
        "oauth_codes",
        sa.Column("code_hash", HASH, nullable=False),
        sa.Column("client_id", CLIENT_ID, nullable=False),
        sa.Column("redirect_uri", sa.String(2048), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("org_id", ID, nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("nonce", sa.String(512), nullable=True),
        sa.Column("code_challenge", sa.String(128), nullable=True),
        _time("auth_time"),
        sa.Column("acr", sa.String(128), nullable=False),
        sa.Column("amr", JSON, nullable=False),
        sa.Column("browser_session_id", ID, nullable=False),
        sa.Column("idp_id", ID, nullable=True),
        _time("created_at"),
        _time("expires_at"),
        _time("used_at", nullable=True),
        sa.Column("session_id", ID, nullable=True),
        sa.PrimaryKeyConstraint("code_hash", name="pk_oauth_codes"),
        _fk("oauth_codes", "client_id", "oauth_clients.client_id"),
        _fk("oauth_codes", "user_id", "users.id"),
        _fk("oauth_codes", "org_id", "organizations.id"),
    )
    op.create_index("ix_oauth_codes_expires_at", "oauth_codes", ["expires_at"])
    op.create_table(
        "oauth_pushed_requests",
        sa.Column("uri_hash", HASH, nullable=False),
        sa.Column("client_id", CLIENT_ID, nullable=False),
        sa.Column("parameters", JSON, nullable=False),
        _time("created_at"),
        _time("expires_at"),
        sa.PrimaryKeyConstraint("uri_hash", name="pk_oauth_pushed_requests"),
        _fk("oauth_pushed_requests", "client_id", "oauth_clients.client_id"),
    )
    op.create_index("ix_oauth_pushed_requests_expires_at", "oauth_pushed_requests", ["expires_at"])
    op.create_table(
        "oauth_consents",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("client_id", CLIENT_ID, nullable=False),
        sa.Column("org_id", ID, nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("user_id", "client_id", name="pk_oauth_consents"),
        _fk("oauth_consents", "user_id", "users.id"),
        _fk("oauth_consents", "client_id", "oauth_clients.client_id"),
        _fk("oauth_consents", "org_id", "organizations.id"),
    )
    op.create_index("ix_oauth_consents_client_id", "oauth_consents", ["client_id"])
    op.create_table(
        "browser_sessions",
        sa.Column("id", ID, nullable=False),
        sa.Column("secret_hash", HASH, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        _time("auth_time"),
        sa.Column("acr", sa.String(128), nullable=False),
        sa.Column("amr", JSON, nullable=False),
        sa.Column("idp_id", ID, nullable=True),
        _time("created_at"),
        _time("expires_at"),
        _time("ended_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_browser_sessions"),
        sa.UniqueConstraint("secret_hash", name="uq_browser_sessions_secret_hash"),
        _fk("browser_sessions", "user_id", "users.id"),
    )
    op.create_index("ix_browser_sessions_user_id", "browser_sessions", ["user_id"])
    op.create_index("ix_browser_sessions_expires_at", "browser_sessions", ["expires_at"])
    op.create_table(
        "browser_session_families",
        sa.Column("family_id", ID, nullable=False),
        sa.Column("browser_session_id", ID, nullable=False),
        sa.PrimaryKeyConstraint("family_id", name="pk_browser_session_families"),
        _fk("browser_session_families", "family_id", "token_families.id"),
        _fk("browser_session_families", "browser_session_id", "browser_sessions.id"),
    )
    op.create_index(
        "ix_browser_session_families_browser_session_id",
        "browser_session_families",
        ["browser_session_id"],
    )


def downgrade() -> None:
    """Drop the provider's tables."""
    for table in (
        "browser_session_families",
        "browser_sessions",
        "oauth_consents",
        "oauth_pushed_requests",
        "oauth_codes",
        "oauth_clients",
    ):
        op.drop_table(table)
