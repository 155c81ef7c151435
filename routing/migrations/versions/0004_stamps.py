"""stamps of cached reference data (the directory as dispatch reads it)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 00:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "routing_stamps",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_routing_stamps")),
    )


def downgrade() -> None:
    op.drop_table("routing_stamps")
