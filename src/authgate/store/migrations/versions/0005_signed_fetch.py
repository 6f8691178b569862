"""The apps gateway: containers, apps and the replay cache of signed-fetch nonces.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
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


def _sealed(nullable: bool) -> list[sa.Column[object]]:
    return [
        sa.Column("ciphertext", sa.LargeBinary(), nullable=nullable),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=nullable),
        sa.Column("kek_id", sa.String(64), nullable=nullable),
        sa.Column("secret_version", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    """Create the gateway's tables."""
    op.create_table(
        "signed_fetch_containers",
        sa.Column("id", ID, nullable=False),
        sa.Column("org_id", ID, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("consumer_key", sa.String(255), nullable=False),
        sa.Column("instance_id", sa.String(128), nullable=False),
        sa.Column("key_type", sa.String(16), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=True),
        *_sealed(nullable=True),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("created_by", ID, nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_signed_fetch_containers"),
        sa.UniqueConstraint("consumer_key", name="uq_signed_fetch_containers_consumer_key"),
        sa.UniqueConstraint("org_id", "name", name="uq_signed_fetch_containers_org_id_name"),
        _fk("signed_fetch_containers", "org_id", "organizations.id"),
        _fk("signed_fetch_containers", "created_by", "users.id", "SET NULL"),
    )
    op.create_index("ix_signed_fetch_containers_kek_id", "signed_fetch_containers", ["kek_id"])
    op.create_table(
        "signed_fetch_apps",
        sa.Column("id", ID, nullable=False),
        sa.Column("org_id", ID, nullable=False),
        sa.Column("app_id", sa.String(128), nullable=False),
        sa.Column("app_url", sa.Text(), nullable=False),
        sa.Column("home_servers", JSON, nullable=False),
        sa.Column("consumer_key", sa.String(255), nullable=False),
        sa.Column("signature_method", sa.String(16), nullable=False),
        *_sealed(nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("created_by", ID, nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_signed_fetch_apps"),
        sa.UniqueConstraint("app_id", name="uq_signed_fetch_apps_app_id"),
        _fk("signed_fetch_apps", "org_id", "organizations.id"),
        _fk("signed_fetch_apps", "created_by", "users.id", "SET NULL"),
    )
    op.create_index("ix_signed_fetch_apps_org_id", "signed_fetch_apps", ["org_id"])
    op.create_index("ix_signed_fetch_apps_kek_id", "signed_fetch_apps", ["kek_id"])
    op.create_table(
        "signed_fetch_nonces",
        sa.Column("consumer_key", sa.String(255), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("nonce", sa.String(128), nullable=False),
        _time("expires_at"),
        sa.PrimaryKeyConstraint(
            "consumer_key", "timestamp", "nonce", name="pk_signed_fetch_nonces"
        ),
    )
    op.create_index("ix_signed_fetch_nonces_expires_at", "signed_fetch_nonces", ["expires_at"])


def downgrade() -> None:
    """Drop the gateway's tables."""
    op.drop_index("ix_signed_fetch_nonces_expires_at", table_name="signed_fetch_nonces")
    op.drop_table("signed_fetch_nonces")
    op.drop_index("ix_signed_fetch_apps_kek_id", table_name="signed_fetch_apps")
    op.drop_index("ix_signed_fetch_apps_org_id", table_name="signed_fetch_apps")
    op.drop_table("signed_fetch_apps")
    op.drop_index("ix_signed_fetch_containers_kek_id", table_name="signed_fetch_containers")
    op.drop_table("signed_fetch_containers")
