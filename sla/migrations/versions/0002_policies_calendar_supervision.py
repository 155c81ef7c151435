"""policies calendar supervision

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 21:13:17.815395
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
        "sla_calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", "source", name=op.f("pk_sla_calendar_days")),
    )
    op.create_table(
        "sla_calendar_settings",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sla_calendar_settings")),
    )
    op.create_table(
        "sla_calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("note", sa.String(length=255), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_sla_calendar_years")),
    )
    op.create_table(
        "sla_clock_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("clock_id", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("what", sa.String(length=24), nullable=False),
        sa.Column("detail", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_clock_history")),
    )
    with op.batch_alter_table("sla_clock_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sla_clock_history_ticket_id"), ["ticket_id"], unique=False
        )

    op.create_table(
        "sla_extensions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("assignment_id", sa.String(length=40), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("requested_days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=255), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("complete_by_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("complete_by_after", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_extensions")),
    )
    with op.batch_alter_table("sla_extensions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sla_extensions_assignment_id"), ["assignment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sla_extensions_ticket_id"), ["ticket_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sla_extensions_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("category", sa.String(length=128), nullable=True),
        sa.Column("unit_class", sa.String(length=16), nullable=True),
        sa.Column("sign_amount", sa.Float(), nullable=False),
        sa.Column("sign_unit", sa.String(length=16), nullable=False),
        sa.Column("response_amount", sa.Float(), nullable=False),
        sa.Column("response_unit", sa.String(length=16), nullable=False),
        sa.Column("completion_amount", sa.Float(), nullable=False),
        sa.Column("completion_unit", sa.String(length=16), nullable=False),
        sa.Column("reminders", sa.Text(), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
    )
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.create_index("uq_sla_policies_code_version", ["code", "version"], unique=True)

    op.create_table(
        "sla_supervision_cases",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=True),
        sa.Column("area_code", sa.String(length=32), nullable=True),
        sa.Column("matter", sa.String(length=180), nullable=True),
        sa.Column("related", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_escalation_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_supervision_cases")),
    )
    with op.batch_alter_table("sla_supervision_cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sla_supervision_cases_due", ["status", "next_escalation_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sla_supervision_cases_ticket_id"), ["ticket_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sla_supervision_cases_unit_id"), ["unit_id"], unique=False
        )

    op.create_table(
        "sla_tickets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=128), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("area_code", sa.String(length=32), nullable=True),
        sa.Column("citizen_ref", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("dispatch_count", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_tickets")),
    )
    with op.batch_alter_table("sla_tickets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sla_tickets_matter", ["category", "area_code", "received_at"], unique=False
        )

    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scope", sa.String(length=10), server_default="assignment", nullable=False)
        )
        batch_op.add_column(sa.Column("round", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(
            sa.Column("role", sa.String(length=8), server_default="lead", nullable=False)
        )
        batch_op.add_column(
            sa.Column("status", sa.String(length=12), server_default="open", nullable=False)
        )
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="complaint", nullable=False)
        )
        batch_op.add_column(
            sa.Column("urgency", sa.String(length=16), server_default="ordinary", nullable=False)
        )
        batch_op.add_column(
            sa.Column("category", sa.String(length=128), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("area_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("unit_class", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("extension_days", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("extension_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "time_zone", sa.String(length=32), server_default="Asia/Shanghai", nullable=False
            )
        )
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column(
            "policy",
            existing_type=sa.VARCHAR(length=32),
            type_=sa.String(length=48),
            existing_nullable=False,
        )
        batch_op.drop_constraint(batch_op.f("uq_sla_clocks_assignment_id"), type_="unique")
        batch_op.create_index(batch_op.f("ix_sla_clocks_area_code"), ["area_code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sla_clocks_assignment_id"), ["assignment_id"], unique=False
        )
        batch_op.create_index("ix_sla_clocks_status_ticket", ["status", "ticket_id"], unique=False)

    with op.batch_alter_table("sla_timers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=8), server_default="deadline", nullable=False)
        )
        batch_op.add_column(
            sa.Column("threshold", sa.String(length=12), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("generation", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:

    with op.batch_alter_table("sla_timers", schema=None) as batch_op:
        batch_op.drop_column("generation")
        batch_op.drop_column("deadline_at")
        batch_op.drop_column("threshold")
        batch_op.drop_column("kind")

    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_clocks_status_ticket")
        batch_op.drop_index(batch_op.f("ix_sla_clocks_assignment_id"))
        batch_op.drop_index(batch_op.f("ix_sla_clocks_area_code"))
        batch_op.create_unique_constraint(
            batch_op.f("uq_sla_clocks_assignment_id"), ["assignment_id"]
        )
        batch_op.alter_column(
            "policy",
            existing_type=sa.String(length=48),
            type_=sa.VARCHAR(length=32),
            existing_nullable=False,
        )
        batch_op.drop_column("closed_at")
        batch_op.drop_column("time_zone")
        batch_op.drop_column("extension_count")
        batch_op.drop_column("extension_days")
        batch_op.drop_column("unit_class")
        batch_op.drop_column("area_code")
        batch_op.drop_column("category")
        batch_op.drop_column("urgency")
        batch_op.drop_column("kind")
        batch_op.drop_column("status")
        batch_op.drop_column("role")
        batch_op.drop_column("round")
        batch_op.drop_column("scope")

    with op.batch_alter_table("sla_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_tickets_matter")

    op.drop_table("sla_tickets")
    with op.batch_alter_table("sla_supervision_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sla_supervision_cases_unit_id"))
        batch_op.drop_index(batch_op.f("ix_sla_supervision_cases_ticket_id"))
        batch_op.drop_index("ix_sla_supervision_cases_due")

    op.drop_table("sla_supervision_cases")
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.drop_index("uq_sla_policies_code_version")

    op.drop_table("sla_policies")
    with op.batch_alter_table("sla_extensions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sla_extensions_unit_id"))
        batch_op.drop_index(batch_op.f("ix_sla_extensions_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_sla_extensions_assignment_id"))

    op.drop_table("sla_extensions")
    with op.batch_alter_table("sla_clock_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sla_clock_history_ticket_id"))

    op.drop_table("sla_clock_history")
    op.drop_table("sla_calendar_years")
    op.drop_table("sla_calendar_settings")
    op.drop_table("sla_calendar_days")
