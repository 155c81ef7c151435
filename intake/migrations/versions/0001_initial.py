"""initial

Revision ID: 0001
Revises:
Create Date: 2026-11-23 20:40:29.949444
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
        "intake_areas",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=32), nullable=True),
        sa.Column("aliases", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_intake_areas")),
    )
    op.create_table(
        "intake_inbox",
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_intake_inbox")),
    )
    op.create_table(
        "intake_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_intake_outbox_event_id")),
    )
    with op.batch_alter_table("intake_outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_intake_outbox_unpublished",
            ["id"],
            unique=False,
            postgresql_where=sa.text("published_at IS NULL"),
            sqlite_where=sa.text("published_at IS NULL"),
        )

    op.create_table(
        "intake_tickets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("area_code", sa.String(length=32), nullable=True),
        sa.Column("citizen_name", sa.String(length=64), nullable=True),
        sa.Column("citizen_phone", sa.String(length=32), nullable=True),
        sa.Column("citizen_ref", sa.String(length=64), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lead_unit_id", sa.String(length=64), nullable=True),
        sa.Column("lead_unit_name", sa.String(length=200), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_tickets")),
    )
    with op.batch_alter_table("intake_tickets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_tickets_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "intake_timeline",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["intake_tickets.id"],
            name=op.f("fk_intake_timeline_ticket_id_intake_tickets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_timeline")),
    )
    with op.batch_alter_table("intake_timeline", schema=None) as batch_op:
        batch_op.create_index("ix_intake_timeline_ticket_at", ["ticket_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("intake_timeline", schema=None) as batch_op:
        batch_op.drop_index("ix_intake_timeline_ticket_at")

    op.drop_table("intake_timeline")
    with op.batch_alter_table("intake_tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_tickets_received_at"))

    op.drop_table("intake_tickets")
    with op.batch_alter_table("intake_outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_intake_outbox_unpublished",
            postgresql_where=sa.text("published_at IS NULL"),
            sqlite_where=sa.text("published_at IS NULL"),
        )

    op.drop_table("intake_outbox")
    op.drop_table("intake_inbox")
    op.drop_table("intake_areas")
