"""attempts exclusions ratings redo

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 21:08:25.315746
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "callback_tickets",
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("declined", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_callback_tickets")),
    )
    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("callback_id", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["callback_id"],
            ["callback_tasks.id"],
            name=op.f("fk_callback_attempts_callback_id_callback_tasks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_attempts")),
    )
    with op.batch_alter_table("callback_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_callback_attempts_callback_id"), ["callback_id"], unique=False
        )

    with op.batch_alter_table("callback_tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=8), server_default="reply", nullable=False)
        )
        batch_op.add_column(sa.Column("exclusion_reason", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("assigned_to", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("channel", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("decision", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("redo_reason", sa.Text(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_callback_tasks_assigned_to"), ["assigned_to"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("callback_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_tasks_assigned_to"))
        batch_op.drop_column("redo_reason")
        batch_op.drop_column("revision")
        batch_op.drop_column("decision")
        batch_op.drop_column("channel")
        batch_op.drop_column("attempts")
        batch_op.drop_column("assigned_to")
        batch_op.drop_column("exclusion_reason")
        batch_op.drop_column("source")

    with op.batch_alter_table("callback_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_attempts_callback_id"))

    op.drop_table("callback_attempts")
    op.drop_table("callback_tickets")
