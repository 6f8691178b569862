"""The initial schema of the user manager and the token service.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported, so this revision never changes with the code.
ID = sa.String(64)
EMAIL = sa.String(320)
HASH = sa.String(128)
ENUM = sa.String(16)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(
    table: str, column: str, target: str, on_delete: str = "CASCADE"
) -> sa.ForeignKeyConstraint:
    name = f"fk_{table}_{column}_{target.partition('.')[0]}"
    return sa.ForeignKeyConstraint([column], [target], name=name, ondelete=on_delete)


def upgrade() -> None:
    """Create every table of revision 0001."""
    op.create_table(
        "organizations",
        sa.Column("id", ID, nullable=False),
        sa.Column("slug", ID, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("domain_join", ENUM, nullable=False),
        sa.Column("request_email", EMAIL, nullable=True),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_organizations"),
        sa.UniqueConstraint("slug", name="uq_organizations_slug"),
    )
    op.create_table(
        "organization_domains",
        sa.Column("org_id", ID, nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "domain", name="pk_organization_domains"),
        _fk("organization_domains", "org_id", "organizations.id"),
    )
    op.create_index("ix_organization_domains_domain", "organization_domains", ["domain"])
    op.create_table(
        "users",
        sa.Column("id", ID, nullable=False),
        sa.Column("email", EMAIL, nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("email_verified", sa.Boolean(), nullable=False),
        _time("created_at"),
        _time("password_changed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "memberships",
        sa.Column("org_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("role", ENUM, nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("org_id", "user_id", name="pk_memberships"),
        _fk("memberships", "org_id", "organizations.id"),
        _fk("memberships", "user_id", "users.id"),
    )
    op.create_index("ix_memberships_user_id", "memberships", ["user_id"])
    op.create_table(
        "invites",
        sa.Column("id", ID, nullable=False),
        sa.Column("org_id", ID, nullable=False),
        sa.Column("email", EMAIL, nullable=False),
        sa.Column("role", ENUM, nullable=False),
        sa.Column("token_hash", HASH, nullable=False),
        sa.Column("invited_by", ID, nullable=True),
        _time("created_at"),
        _time("expires_at"),
        _time("accepted_at", nullable=True),
        _time("revoked_at", nullable=True),
        sa.Column("sent_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_invites"),
        sa.UniqueConstraint("token_hash", name="uq_invites_token_hash"),
        _fk("invites", "org_id", "organizations.id"),
        _fk("invites", "invited_by", "users.id", on_delete="SET NULL"),
    )
    op.create_index("ix_invites_org_id_created_at", "invites", ["org_id", "created_at"])
    op.create_table(
        "join_requests",
        sa.Column("id", ID, nullable=False),
        sa.Column("org_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("status", ENUM, nullable=False),
        _time("created_at"),
        sa.Column("decided_by", ID, nullable=True),
        _time("decided_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_join_requests"),
        _fk("join_requests", "org_id", "organizations.id"),
        _fk("join_requests", "user_id", "users.id"),
        _fk("join_requests", "decided_by", "users.id", on_delete="SET NULL"),
    )
    op.create_index("ix_join_requests_org_id_created_at", "join_requests", ["org_id", "created_at"])
    op.create_index("ix_join_requests_user_id", "join_requests", ["user_id"])
    op.create_table(
        "one_time_tokens",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("purpose", ENUM, nullable=False),
        sa.Column("token_hash", HASH, nullable=False),
        _time("created_at"),
        _time("expires_at"),
        _time("used_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_one_time_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_one_time_tokens_token_hash"),
        _fk("one_time_tokens", "user_id", "users.id"),
    )
    op.create_index("ix_one_time_tokens_user_id_purpose", "one_time_tokens", ["user_id", "purpose"])
    op.create_table(
        "audit_events",
        sa.Column("id", ID, nullable=False),
        _time("at"),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("actor_id", ID, nullable=True),
        sa.Column("org_id", ID, nullable=True),
        sa.Column("subject", sa.String(400), nullable=True),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_org_id_at", "audit_events", ["org_id", "at"])
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_table(
        "token_families",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("org_id", ID, nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        _time("created_at"),
        _time("expires_at"),
        _time("revoked_at", nullable=True),
        sa.Column("revoked_reason", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_token_families"),
        _fk("token_families", "user_id", "users.id"),
        _fk("token_families", "org_id", "organizations.id"),
    )
    op.create_index("ix_token_families_user_id", "token_families", ["user_id"])
    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", HASH, nullable=False),
        sa.Column("family_id", ID, nullable=False),
        _time("created_at"),
        _time("expires_at"),
        _time("used_at", nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_refresh_tokens"),
        _fk("refresh_tokens", "family_id", "token_families.id"),
    )
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"])
    op.create_table(
        "signing_keys",
        sa.Column("kid", ID, nullable=False),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("public_jwk", JSON, nullable=False),
        sa.Column("private_key_sealed", sa.LargeBinary(), nullable=False),
        _time("created_at"),
        _time("retired_at", nullable=True),
        sa.PrimaryKeyConstraint("kid", name="pk_signing_keys"),
    )
    op.create_table(
        "service_clients",
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("org_id", ID, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_hash", HASH, nullable=False),
        sa.Column("scopes", JSON, nullable=False),
        _time("created_at"),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name="pk_service_clients"),
        _fk("service_clients", "org_id", "organizations.id"),
    )
    op.create_index("ix_service_clients_org_id", "service_clients", ["org_id"])


def downgrade() -> None:
    """Drop every table of revision 0001, children first."""
    for table in (
        "service_clients",
        "signing_keys",
        "refresh_tokens",
        "token_families",
        "audit_events",
        "one_time_tokens",
        "join_requests",
        "invites",
        "memberships",
        "users",
        "organization_domains",
        "organizations",
    ):
        op.drop_table(table)
