"""initial

Revision ID: 0001
Revises:
Create Date: 2026-11-23 20:40:29.987476
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
        "routing_areas",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_routing_areas")),
    )
    op.create_table(
        "routing_inbox",
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_routing_inbox")),
    )
    op.create_table(
        "routing_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_routing_outbox_event_id")),
    )
    with op.batch_alter_table("routing_outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_routing_outbox_unpublished",
            ["id"],
            unique=False,
            postgresql_where=sa.text("published_at IS NULL"),
            sqlite_where=sa.text("published_at IS NULL"),
        )

    op.create_table(
        "routing_tickets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("area_code", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("dispatch_count", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_tickets")),
    )
    op.create_table(
        "routing_units",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("area_code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_code"],
            ["routing_areas.code"],
            name=op.f("fk_routing_units_area_code_routing_areas"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_units")),
    )
    op.create_table(
        "routing_assignments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=True),
        sa.Column("catalogue_version", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contacted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["routing_tickets.id"],
            name=op.f("fk_routing_assignments_ticket_id_routing_tickets"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["routing_units.id"],
            name=op.f("fk_routing_assignments_unit_id_routing_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_assignments")),
    )
    with op.batch_alter_table("routing_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_routing_assignments_ticket_id"), ["ticket_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_routing_assignments_unit_id"), ["unit_id"], unique=False
        )

    op.create_table(
        "routing_rules",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("area_code", sa.String(length=32), nullable=True),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("lead_unit_id", sa.String(length=64), nullable=False),
        sa.Column("assist_unit_ids", sa.Text(), nullable=False),
        sa.Column("catalogue_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_unit_id"],
            ["routing_units.id"],
            name=op.f("fk_routing_rules_lead_unit_id_routing_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
    )


def downgrade() -> None:
    op.drop_table("routing_rules")
    with op.batch_alter_table("routing_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_assignments_unit_id"))
        batch_op.drop_index(batch_op.f("ix_routing_assignments_ticket_id"))

    op.drop_table("routing_assignments")
    op.drop_table("routing_units")
    op.drop_table("routing_tickets")
    with op.batch_alter_table("routing_outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_routing_outbox_unpublished",
            postgresql_where=sa.text("published_at IS NULL"),
            sqlite_where=sa.text("published_at IS NULL"),
        )

    op.drop_table("routing_outbox")
    op.drop_table("routing_inbox")
    op.drop_table("routing_areas")
