"""Device authorization requests (RFC 8628): codes as keyed hashes, decisions, redemption.

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported, so this revision never changes with the code.
ID = sa.String(64)
HASH = sa.String(128)


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create the device authorization table."""
    op.create_table(
        "device_authorizations",
        sa.Column("id", ID, nullable=False),
        sa.Column("device_code_hash", HASH, nullable=False),
        sa.Column("user_code_hash", HASH, nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("scope", sa.String(2048), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        _time("created_at"),
        _time("expires_at"),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("org_id", ID, nullable=True),
        _time("decided_at", nullable=True),
        _time("last_polled_at", nullable=True),
        _time("redeemed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_device_authorizations"),
        sa.UniqueConstraint("device_code_hash", name="uq_device_authorizations_device_code_hash"),
        sa.UniqueConstraint("user_code_hash", name="uq_device_authorizations_user_code_hash"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_device_authorizations_user_id_users",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_device_authorizations_org_id_organizations",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_device_authorizations_expires_at", "device_authorizations", ["expires_at"])


def downgrade() -> None:
    """Drop the device authorization table."""
    op.drop_index("ix_device_authorizations_expires_at", table_name="device_authorizations")
    op.drop_table("device_authorizations")
