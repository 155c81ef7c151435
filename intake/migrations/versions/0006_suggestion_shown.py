"""the category suggestion shown to the operator, recorded with the ticket: the categories
offered (best first), the first of them, their source and the model version; older tickets
have none

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("intake_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suggested_top", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("suggested_category", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("suggestion_source", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("suggestion_model", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("intake_tickets", schema=None) as batch_op:
        batch_op.drop_column("suggestion_model")
        batch_op.drop_column("suggestion_source")
        batch_op.drop_column("suggested_category")
        batch_op.drop_column("suggested_top")
