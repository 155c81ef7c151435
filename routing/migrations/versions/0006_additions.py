"""citizens' additions to a dispatched ticket (补充诉求), learned from ticket.info_added

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "routing_additions",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attachments", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["routing_tickets.id"],
            name=op.f("fk_routing_additions_ticket_id_routing_tickets"),
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_routing_additions")),
    )
    op.create_index(
        op.f("ix_routing_additions_ticket_id"), "routing_additions", ["ticket_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_routing_additions_ticket_id"), table_name="routing_additions")
    op.drop_table("routing_additions")
