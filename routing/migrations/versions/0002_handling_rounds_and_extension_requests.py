"""handling rounds and extension requests

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 21:06:06.533434
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
        "routing_extension_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("assignment_id", sa.String(length=40), nullable=False),
        sa.Column("requested_days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["routing_assignments.id"],
            name=op.f("fk_routing_extension_requests_assignment_id_routing_assignments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_extension_requests")),
    )
    with op.batch_alter_table("routing_extension_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_routing_extension_requests_assignment_id"),
            ["assignment_id"],
            unique=False,
        )

    with op.batch_alter_table("routing_assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("round", sa.Integer(), server_default="1", nullable=False))

    with op.batch_alter_table("routing_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("round", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("routing_tickets", schema=None) as batch_op:
        batch_op.drop_column("round")

    with op.batch_alter_table("routing_assignments", schema=None) as batch_op:
        batch_op.drop_column("round")

    with op.batch_alter_table("routing_extension_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_extension_requests_assignment_id"))

    op.drop_table("routing_extension_requests")
