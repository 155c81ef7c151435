"""channels, repeats, clusters, taxonomy, area boundaries, idempotency, added information

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 21:22:28.928757
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
        "intake_area_boundaries",
        sa.Column("area_code", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("polygon", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("area_code", name=op.f("pk_intake_area_boundaries")),
    )
    op.create_table(
        "intake_categories",
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("parent_path", sa.String(length=200), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("path", name=op.f("pk_intake_categories")),
        sa.UniqueConstraint("code", name=op.f("uq_intake_categories_code")),
    )
    op.create_table(
        "intake_clusters",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("area_code", sa.String(length=32), nullable=True),
        sa.Column("ticket_ids", sa.JSON(), nullable=False),
        sa.Column("reporters", sa.Integer(), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_clusters")),
    )
    op.create_table(
        "intake_idempotency",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("repeat_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_intake_idempotency")),
    )
    op.create_table(
        "intake_added_info",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["intake_tickets.id"],
            name=op.f("fk_intake_added_info_ticket_id_intake_tickets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_added_info")),
    )
    with op.batch_alter_table("intake_added_info", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_added_info_ticket_id"), ["ticket_id"], unique=False
        )

    op.create_table(
        "intake_repeats",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("channel_refs", sa.JSON(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["intake_tickets.id"],
            name=op.f("fk_intake_repeats_ticket_id_intake_tickets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_repeats")),
    )
    with op.batch_alter_table("intake_repeats", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_repeats_ticket_id"), ["ticket_id"], unique=False
        )

    with op.batch_alter_table("intake_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("attachments", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("channel_refs", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("category_source", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("classification_reasons", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("terms", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("repeat_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("cluster_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("lead_assignment_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("expected_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_intake_tickets_cluster_id"), ["cluster_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("intake_tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_tickets_cluster_id"))
        batch_op.drop_column("expected_at")
        batch_op.drop_column("lead_assignment_id")
        batch_op.drop_column("cluster_id")
        batch_op.drop_column("repeat_count")
        batch_op.drop_column("terms")
        batch_op.drop_column("classification_reasons")
        batch_op.drop_column("category_source")
        batch_op.drop_column("channel_refs")
        batch_op.drop_column("attachments")
        batch_op.drop_column("latitude")
        batch_op.drop_column("longitude")

    with op.batch_alter_table("intake_repeats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_repeats_ticket_id"))

    op.drop_table("intake_repeats")
    with op.batch_alter_table("intake_added_info", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_added_info_ticket_id"))

    op.drop_table("intake_added_info")
    op.drop_table("intake_idempotency")
    op.drop_table("intake_clusters")
    op.drop_table("intake_categories")
    op.drop_table("intake_area_boundaries")
