"""bounded lookups: same-matter and citizen indexes, clusters kept in place with their
reporters, stamps of cached reference data

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intake_stamps",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_intake_stamps")),
    )
    with op.batch_alter_table("intake_tickets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_intake_tickets_matter",
            ["category", "area_code", "cluster_id", "received_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_intake_tickets_citizen", ["citizen_ref", "received_at"], unique=False
        )
    op.create_index(
        "ix_intake_clusters_place",
        "intake_clusters",
        ["category", "area_code", "updated_at"],
        unique=False,
    )
    op.create_table(
        "intake_cluster_reporters",
        sa.Column("cluster_id", sa.String(length=32), nullable=False),
        sa.Column("reporter", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["intake_clusters.id"],
            name=op.f("fk_intake_cluster_reporters_cluster_id_intake_clusters"),
        ),
        sa.PrimaryKeyConstraint("cluster_id", "reporter", name=op.f("pk_intake_cluster_reporters")),
    )
    # Reporters of clusters formed before: each member's citizen, or the ticket if anonymous.
    op.execute(
        "INSERT INTO intake_cluster_reporters (cluster_id, reporter) "
        "SELECT DISTINCT cluster_id, COALESCE(citizen_ref, 'anonymous:' || id) "
        "FROM intake_tickets WHERE cluster_id IS NOT NULL"
    )
    # A cluster's size replaces its member list; members are the tickets that name it.
    with op.batch_alter_table("intake_clusters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("size", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE intake_clusters SET size = (SELECT count(*) FROM intake_tickets "
        "WHERE intake_tickets.cluster_id = intake_clusters.id)"
    )
    with op.batch_alter_table("intake_clusters", schema=None) as batch_op:
        batch_op.alter_column("size", server_default=None)
        batch_op.drop_column("ticket_ids")


def downgrade() -> None:
    # The old member lists start empty; the tickets still name their cluster.
    with op.batch_alter_table("intake_clusters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticket_ids", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.drop_column("size")
    op.drop_table("intake_cluster_reporters")
    op.drop_index("ix_intake_clusters_place", table_name="intake_clusters")
    with op.batch_alter_table("intake_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_intake_tickets_citizen")
        batch_op.drop_index("ix_intake_tickets_matter")
    op.drop_table("intake_stamps")
