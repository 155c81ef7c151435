"""initial

Revision ID: 0001
Revises:
Create Date: 2026-11-23 20:40:30.085409
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_assignments",
        sa.Column("assignment_id", sa.String(length=40), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=True),
        sa.Column("unit_id", sa.String(length=64), nullable=True),
        sa.Column("role", sa.String(length=8), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contacted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sign_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("respond_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("complete_by", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("assignment_id", name=op.f("pk_analytics_assignments")),
    )
    with op.batch_alter_table("analytics_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analytics_assignments_dispatched_at"), ["dispatched_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_analytics_assignments_ticket_id"), ["ticket_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_analytics_assignments_unit_id"), ["unit_id"], unique=False
        )

    op.create_table(
        "analytics_inbox",
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_analytics_inbox")),
    )
    op.create_table(
        "analytics_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_analytics_outbox_event_id")),
    )
    with op.batch_alter_table("analytics_outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_analytics_outbox_unpublished",
            ["id"],
            unique=False,
            postgresql_where=sa.text("published_at IS NULL"),
            sqlite_where=sa.text("published_at IS NULL"),
        )

    op.create_table(
        "analytics_tickets",
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("category", sa.String(length=200), nullable=True),
        sa.Column("urgency", sa.String(length=16), nullable=True),
        sa.Column("area_code", sa.String(length=32), nullable=True),
        sa.Column("lead_unit_id", sa.String(length=64), nullable=True),
        sa.Column("dispatch_count", sa.Integer(), nullable=False),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("callback_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("solved", sa.String(length=16), nullable=True),
        sa.Column("satisfaction", sa.String(length=24), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_analytics_tickets")),
    )
    with op.batch_alter_table("analytics_tickets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analytics_tickets_callback_at"), ["callback_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_analytics_tickets_lead_unit_id"), ["lead_unit_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_analytics_tickets_received_at"), ["received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("analytics_tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analytics_tickets_received_at"))
        batch_op.drop_index(batch_op.f("ix_analytics_tickets_lead_unit_id"))
        batch_op.drop_index(batch_op.f("ix_analytics_tickets_callback_at"))

    op.drop_table("analytics_tickets")
    with op.batch_alter_table("analytics_outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_analytics_outbox_unpublished",
            postgresql_where=sa.text("published_at IS NULL"),
            sqlite_where=sa.text("published_at IS NULL"),
        )

    op.drop_table("analytics_outbox")
    op.drop_table("analytics_inbox")
    with op.batch_alter_table("analytics_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analytics_assignments_unit_id"))
        batch_op.drop_index(batch_op.f("ix_analytics_assignments_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_analytics_assignments_dispatched_at"))

    op.drop_table("analytics_assignments")
