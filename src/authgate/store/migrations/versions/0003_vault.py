"""The vault: credentials, their sealed secret versions, and users' OAuth connections.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported, so this revision never changes with the code.
ID = sa.String(64)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(
    table: str, column: str, target: str, on_delete: str = "CASCADE"
) -> sa.ForeignKeyConstraint:
    name = f"fk_{table}_{column}_{target.partition('.')[0]}"
    return sa.ForeignKeyConstraint([column], [target], name=name, ondelete=on_delete)


def upgrade() -> None:
    """Create the vault's tables."""
    op.create_table(
        "vault_credentials",
        sa.Column("id", ID, nullable=False),
        sa.Column("org_id", ID, nullable=False),
        sa.Column("solution", sa.String(128), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("allowed_hosts", JSON, nullable=False),
        sa.Column("device_usable", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("oauth", JSON, nullable=True),
        sa.Column("created_by", ID, nullable=True),
        _time("created_at"),
        sa.Column("updated_by", ID, nullable=True),
        _time("updated_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_vault_credentials"),
        sa.UniqueConstraint(
            "org_id", "solution", "name", name="uq_vault_credentials_org_id_solution_name"
        ),
        _fk("vault_credentials", "org_id", "organizations.id"),
        _fk("vault_credentials", "created_by", "users.id", "SET NULL"),
        _fk("vault_credentials", "updated_by", "users.id", "SET NULL"),
    )
    op.create_table(
        "vault_secret_versions",
        sa.Column("credential_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("kek_id", sa.String(64), nullable=False),
        _time("created_at"),
        _time("superseded_at", nullable=True),
        sa.PrimaryKeyConstraint("credential_id", "version", name="pk_vault_secret_versions"),
        _fk("vault_secret_versions", "credential_id", "vault_credentials.id"),
    )
    op.create_index("ix_vault_secret_versions_kek_id", "vault_secret_versions", ["kek_id"])
    op.create_table(
        "vault_connections",
        sa.Column("id", ID, nullable=False),
        sa.Column("org_id", ID, nullable=False),
        sa.Column("credential_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("kek_id", sa.String(64), nullable=False),
        _time("access_expires_at", nullable=True),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("lease_owner", ID, nullable=True),
        _time("lease_until", nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_vault_connections"),
        sa.UniqueConstraint(
            "credential_id", "user_id", name="uq_vault_connections_credential_id_user_id"
        ),
        _fk("vault_connections", "org_id", "organizations.id"),
        _fk("vault_connections", "credential_id", "vault_credentials.id"),
        _fk("vault_connections", "user_id", "users.id"),
    )
    op.create_index("ix_vault_connections_user_id", "vault_connections", ["user_id"])
    op.create_index("ix_vault_connections_kek_id", "vault_connections", ["kek_id"])
    op.create_table(
        "vault_oauth_states",
        sa.Column("state_hash", sa.String(128), nullable=False),
        sa.Column("org_id", ID, nullable=False),
        sa.Column("credential_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        _time("created_at"),
        _time("expires_at"),
        sa.PrimaryKeyConstraint("state_hash", name="pk_vault_oauth_states"),
        _fk("vault_oauth_states", "org_id", "organizations.id"),
        _fk("vault_oauth_states", "credential_id", "vault_credentials.id"),
        _fk("vault_oauth_states", "user_id", "users.id"),
    )
    op.create_index("ix_vault_oauth_states_expires_at", "vault_oauth_states", ["expires_at"])


def downgrade() -> None:
    """Drop the vault's tables (and every stored credential with them)."""
    op.drop_index("ix_vault_oauth_states_expires_at", table_name="vault_oauth_states")
    op.drop_table("vault_oauth_states")
    op.drop_index("ix_vault_connections_kek_id", table_name="vault_connections")
    op.drop_index("ix_vault_connections_user_id", table_name="vault_connections")
    op.drop_table("vault_connections")
    op.drop_index("ix_vault_secret_versions_kek_id", table_name="vault_secret_versions")
    op.drop_table("vault_secret_versions")
    op.drop_table("vault_credentials")
