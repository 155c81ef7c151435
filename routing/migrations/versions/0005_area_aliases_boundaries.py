"""areas carry their aliases and boundary: routing owns the directory and publishes it

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 02:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("routing_areas") as batch_op:
        batch_op.add_column(sa.Column("aliases", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("boundary", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("routing_areas") as batch_op:
        batch_op.drop_column("boundary")
        batch_op.drop_column("aliases")
