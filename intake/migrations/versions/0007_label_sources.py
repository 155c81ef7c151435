"""where a ticket's kind and urgency came from: given by an operator or the channel, or
suggested by the classification help (no label to learn from); older tickets have none

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("intake_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind_source", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("urgency_source", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("intake_tickets", schema=None) as batch_op:
        batch_op.drop_column("urgency_source")
        batch_op.drop_column("kind_source")
