"""stamps of cached reference data (the working calendar)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 23:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sla_stamps",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sla_stamps")),
    )


def downgrade() -> None:
    op.drop_table("sla_stamps")
