"""same matter confirmed by the operator: the ticket names the other citizen's ticket it was
confirmed to be the same matter as

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("intake_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("same_matter_of", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("intake_tickets", schema=None) as batch_op:
        batch_op.drop_column("same_matter_of")
