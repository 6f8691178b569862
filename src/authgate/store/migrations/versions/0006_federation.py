"""SSO federation: IdPs, SSO settings, linked IdP accounts, logins and codes in flight, and
the IdP that started each session.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported, so this revision never changes with the code.
ID = sa.String(64)
HASH = sa.String(128)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
SET = sa.text("idp_id IS NOT NULL")


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(
    table: str, column: str, target: str, on_delete: str = "CASCADE"
) -> sa.ForeignKeyConstraint:
    name = f"fk_{table}_{column}_{target.partition('.')[0]}"
    return sa.ForeignKeyConstraint([column], [target], name=name, ondelete=on_delete)


def upgrade() -> None:
    """Create the federation's tables and record the IdP of each session."""
    op.add_column("token_families", sa.Column("idp_id", ID, nullable=True))
    op.create_index(
        "ix_token_families_idp_id",
        "token_families",
        ["idp_id"],
        sqlite_where=SET,
        postgresql_where=SET,
    )
    op.create_table(
        "sso_settings",
        sa.Column("org_id", ID, nullable=False),
        sa.Column("provisioning", sa.String(16), nullable=False),
        sa.Column("enforce_sso", sa.Boolean(), nullable=False),
        sa.Column("solutions", JSON, nullable=False),
        _time("updated_at", nullable=True),
        sa.PrimaryKeyConstraint("org_id", name="pk_sso_settings"),
        _fk("sso_settings", "org_id", "organizations.id"),
    )
    op.create_table(
        "sso_idps",
        sa.Column("id", ID, nullable=False),
        sa.Column("org_id", ID, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("issuer", sa.String(2048), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("device_client_id", sa.String(255), nullable=True),
        sa.Column("scopes", JSON, nullable=False),
        sa.Column("pkce", sa.Boolean(), nullable=False),
        sa.Column("nonce", sa.Boolean(), nullable=False),
        sa.Column("domains", JSON, nullable=False),
        sa.Column("tenants", JSON, nullable=False),
        sa.Column("endpoints", JSON, nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("kek_id", sa.String(64), nullable=False),
        sa.Column("secret_version", sa.Integer(), nullable=False),
        sa.Column("created_by", ID, nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_sso_idps"),
        sa.UniqueConstraint("org_id", "name", name="uq_sso_idps_org_id_name"),
        _fk("sso_idps", "org_id", "organizations.id"),
        _fk("sso_idps", "created_by", "users.id", "SET NULL"),
    )
    op.create_index("ix_sso_idps_kek_id", "sso_idps", ["kek_id"])
    op.create_table(
        "sso_identities",
        sa.Column("issuer", sa.String(2048), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("idp_id", ID, nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        _time("created_at"),
        _time("last_login_at"),
        sa.PrimaryKeyConstraint("issuer", "subject", name="pk_sso_identities"),
        _fk("sso_identities", "user_id", "users.id"),
        _fk("sso_identities", "idp_id", "sso_idps.id", "SET NULL"),
    )
    op.create_index("ix_sso_identities_user_id", "sso_identities", ["user_id"])
    op.create_table(
        "sso_logins",
        sa.Column("state_hash", HASH, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("idp_id", ID, nullable=False),
        sa.Column("org_id", ID, nullable=False),
        sa.Column("idp_version", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=True),
        sa.Column("redirect_uri", sa.Text(), nullable=True),
        sa.Column("app_state", sa.String(512), nullable=True),
        sa.Column("code_challenge", sa.String(64), nullable=True),
        sa.Column("user_id", ID, nullable=True),
        _time("created_at"),
        _time("expires_at"),
        sa.PrimaryKeyConstraint("state_hash", name="pk_sso_logins"),
        _fk("sso_logins", "idp_id", "sso_idps.id"),
        _fk("sso_logins", "org_id", "organizations.id"),
        _fk("sso_logins", "user_id", "users.id"),
    )
    op.create_index("ix_sso_logins_expires_at", "sso_logins", ["expires_at"])
    op.create_table(
        "sso_codes",
        sa.Column("code_hash", HASH, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("org_id", ID, nullable=False),
        sa.Column("idp_id", ID, nullable=False),
        sa.Column("idp_version", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("code_challenge", sa.String(64), nullable=False),
        _time("created_at"),
        _time("expires_at"),
        _time("used_at", nullable=True),
        sa.Column("session_id", ID, nullable=True),
        sa.PrimaryKeyConstraint("code_hash", name="pk_sso_codes"),
        _fk("sso_codes", "user_id", "users.id"),
        _fk("sso_codes", "org_id", "organizations.id"),
        _fk("sso_codes", "idp_id", "sso_idps.id"),
    )
    op.create_index("ix_sso_codes_expires_at", "sso_codes", ["expires_at"])


def downgrade() -> None:
    """Drop the federation's tables (every IdP configuration and linked account with them)."""
    op.drop_index("ix_sso_codes_expires_at", table_name="sso_codes")
    op.drop_table("sso_codes")
    op.drop_index("ix_sso_logins_expires_at", table_name="sso_logins")
    op.drop_table("sso_logins")
    op.drop_index("ix_sso_identities_user_id", table_name="sso_identities")
    op.drop_table("sso_identities")
    op.drop_index("ix_sso_idps_kek_id", table_name="sso_idps")
    op.drop_table("sso_idps")
    op.drop_table("sso_settings")
    op.drop_index("ix_token_families_idp_id", table_name="token_families")
    with op.batch_alter_table("token_families") as batch:
        batch.drop_column("idp_id")
