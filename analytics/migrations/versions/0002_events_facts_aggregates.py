"""events store, full facts, daily aggregates, units

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 21:13:44.829723
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
        "analytics_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("area_code", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("excluded", sa.BigInteger(), nullable=False),
        sa.Column("answered", sa.BigInteger(), nullable=False),
        sa.Column("dispatched", sa.BigInteger(), nullable=False),
        sa.Column("completed", sa.BigInteger(), nullable=False),
        sa.Column("completed_on_time", sa.BigInteger(), nullable=False),
        sa.Column("reopened", sa.BigInteger(), nullable=False),
        sa.Column("handled", sa.BigInteger(), nullable=False),
        sa.Column("called_back", sa.BigInteger(), nullable=False),
        sa.Column("not_callable", sa.BigInteger(), nullable=False),
        sa.Column("unreachable", sa.BigInteger(), nullable=False),
        sa.Column("handling_count", sa.BigInteger(), nullable=False),
        sa.Column("handling_seconds", sa.BigInteger(), nullable=False),
        sa.Column("supervised", sa.BigInteger(), nullable=False),
        sa.Column("assignments", sa.BigInteger(), nullable=False),
        sa.Column("returned", sa.BigInteger(), nullable=False),
        sa.Column("leads", sa.BigInteger(), nullable=False),
        sa.Column("leads_responded", sa.BigInteger(), nullable=False),
        sa.Column("verdicts", sa.BigInteger(), nullable=False),
        sa.Column("solved", sa.BigInteger(), nullable=False),
        sa.Column("partly_solved", sa.BigInteger(), nullable=False),
        sa.Column("unsolved", sa.BigInteger(), nullable=False),
        sa.Column("satisfied", sa.BigInteger(), nullable=False),
        sa.Column("basically_satisfied", sa.BigInteger(), nullable=False),
        sa.Column("dissatisfied", sa.BigInteger(), nullable=False),
        sa.Column("coordinated_verdicts", sa.BigInteger(), nullable=False),
        sa.Column("coordinated_solved", sa.BigInteger(), nullable=False),
        sa.Column("coordinated_partly_solved", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "unit_id", "area_code", "category", "channel", name=op.f("pk_analytics_daily")
        ),
    )
    with op.batch_alter_table("analytics_daily", schema=None) as batch_op:
        batch_op.create_index("ix_analytics_daily_unit_day", ["unit_id", "day"], unique=False)

    op.create_table(
        "analytics_events",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_analytics_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_analytics_events_event_id")),
    )
    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.create_index("ix_analytics_events_ticket_seq", ["ticket_id", "seq"], unique=False)

    op.create_table(
        "analytics_units",
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("unit_class", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_analytics_units")),
    )
    with op.batch_alter_table("analytics_units", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analytics_units_unit_class"), ["unit_class"], unique=False
        )

    # Rows the first slice made from a clock before its dispatch had no ticket: a rebuild
    # (python -m services analytics rebuild) restores everything from the stored events.
    op.execute("DELETE FROM analytics_assignments WHERE ticket_id IS NULL")
    with op.batch_alter_table("analytics_assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(
            sa.Column("dispatch_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("return_reason", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("extension_requests", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("sign_breached", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("response_breached", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column(
                "completion_breached", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column("responded_on_time", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.alter_column(
            "ticket_id",
            existing_type=sa.VARCHAR(length=32),
            type_=sa.String(length=64),
            nullable=False,
        )

    with op.batch_alter_table("analytics_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("citizen_ref", sa.String(length=128), nullable=True))
        batch_op.add_column(
            sa.Column("anonymous", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("answered", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(
            sa.Column("reopen_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("replied_round", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("reply_assignment_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("reply_outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("callback_round", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("callback_revision", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("callback_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("callback_unit_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("not_callable_reason", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("contacted_by_unit", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("close_reason", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("supervised_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("lead_assignment_id", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("first_dispatched_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("assist_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("returned_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("excluded", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("completed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("completed_on_time", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("handling_days", sa.Float(), nullable=True))
        batch_op.alter_column(
            "ticket_id",
            existing_type=sa.VARCHAR(length=32),
            type_=sa.String(length=64),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("analytics_tickets", schema=None) as batch_op:
        batch_op.alter_column(
            "ticket_id",
            existing_type=sa.String(length=64),
            type_=sa.VARCHAR(length=32),
            existing_nullable=False,
        )
        batch_op.drop_column("handling_days")
        batch_op.drop_column("completed_on_time")
        batch_op.drop_column("completed")
        batch_op.drop_column("excluded")
        batch_op.drop_column("returned_count")
        batch_op.drop_column("assist_count")
        batch_op.drop_column("first_dispatched_at")
        batch_op.drop_column("lead_assignment_id")
        batch_op.drop_column("supervised_count")
        batch_op.drop_column("close_reason")
        batch_op.drop_column("contacted_by_unit")
        batch_op.drop_column("not_callable_reason")
        batch_op.drop_column("callback_unit_id")
        batch_op.drop_column("callback_status")
        batch_op.drop_column("callback_revision")
        batch_op.drop_column("callback_round")
        batch_op.drop_column("reply_outcome")
        batch_op.drop_column("reply_assignment_id")
        batch_op.drop_column("replied_round")
        batch_op.drop_column("reopen_count")
        batch_op.drop_column("round")
        batch_op.drop_column("answered_at")
        batch_op.drop_column("answered")
        batch_op.drop_column("anonymous")
        batch_op.drop_column("citizen_ref")

    with op.batch_alter_table("analytics_assignments", schema=None) as batch_op:
        batch_op.alter_column(
            "ticket_id",
            existing_type=sa.String(length=64),
            type_=sa.VARCHAR(length=32),
            nullable=True,
        )
        batch_op.drop_column("responded_on_time")
        batch_op.drop_column("completion_breached")
        batch_op.drop_column("response_breached")
        batch_op.drop_column("sign_breached")
        batch_op.drop_column("extension_requests")
        batch_op.drop_column("return_reason")
        batch_op.drop_column("returned_at")
        batch_op.drop_column("outcome")
        batch_op.drop_column("dispatch_count")
        batch_op.drop_column("round")
        batch_op.drop_column("unit_name")

    with op.batch_alter_table("analytics_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analytics_units_unit_class"))

    op.drop_table("analytics_units")
    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_events_ticket_seq")

    op.drop_table("analytics_events")
    with op.batch_alter_table("analytics_daily", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_daily_unit_day")

    op.drop_table("analytics_daily")
