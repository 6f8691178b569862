"""Solutions: the version in force, every published version, and the members.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
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
    """Create the solution tables."""
    op.create_table(
        "solutions",
        sa.Column("id", ID, nullable=False),
        sa.Column("org_id", ID, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_solutions"),
        sa.UniqueConstraint("org_id", "name", name="uq_solutions_org_id_name"),
        _fk("solutions", "org_id", "organizations.id"),
    )
    op.create_table(
        "solution_versions",
        sa.Column("solution_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.Column("warnings", JSON, nullable=False),
        sa.Column("published_by", ID, nullable=True),
        _time("published_at"),
        sa.PrimaryKeyConstraint("solution_id", "version", name="pk_solution_versions"),
        _fk("solution_versions", "solution_id", "solutions.id"),
        _fk("solution_versions", "published_by", "users.id", "SET NULL"),
    )
    op.create_table(
        "solution_members",
        sa.Column("solution_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        _time("added_at"),
        sa.PrimaryKeyConstraint("solution_id", "user_id", name="pk_solution_members"),
        _fk("solution_members", "solution_id", "solutions.id"),
        _fk("solution_members", "user_id", "users.id"),
    )
    op.create_index("ix_solution_members_user_id", "solution_members", ["user_id"])


def downgrade() -> None:
    """Drop the solution tables (and every published version with them)."""
    op.drop_index("ix_solution_members_user_id", table_name="solution_members")
    op.drop_table("solution_members")
    op.drop_table("solution_versions")
    op.drop_table("solutions")
