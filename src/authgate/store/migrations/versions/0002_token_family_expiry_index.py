"""Index token families by expiry, for pruning ended sessions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the index."""
    op.create_index("ix_token_families_expires_at", "token_families", ["expires_at"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_token_families_expires_at", table_name="token_families")
