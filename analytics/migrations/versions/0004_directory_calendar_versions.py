"""the directory and the calendar learned from events, and the formula versions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 09:00:00

analytics used to read units' kinds and areas' names from a JSON file and the calendar from
the `chinesecalendar` package alone: now routing's `directory.*` and sla's `calendar.changed`
events fill these tables (a rebuild replays them from `analytics_events`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_stamps",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_analytics_stamps")),
    )
    op.create_table(
        "analytics_areas",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent", sa.String(length=32), nullable=True),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_analytics_areas")),
    )
    op.create_table(
        "analytics_calendar",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_analytics_calendar")),
    )
    op.create_table(
        "analytics_config_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_config_versions")),
        sa.UniqueConstraint("digest", name=op.f("uq_analytics_config_versions_digest")),
        sa.UniqueConstraint("label", name=op.f("uq_analytics_config_versions_label")),
    )
    with op.batch_alter_table("analytics_units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("area_code", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("retired", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        # None until an event names the class (the name-suffix guess is gone).
        batch_op.alter_column("unit_class", existing_type=sa.String(length=16), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE analytics_units SET unit_class = 'department' WHERE unit_class IS NULL")
    with op.batch_alter_table("analytics_units", schema=None) as batch_op:
        batch_op.alter_column("unit_class", existing_type=sa.String(length=16), nullable=False)
        batch_op.drop_column("retired")
        batch_op.drop_column("area_code")
        batch_op.drop_column("kind")
    op.drop_table("analytics_config_versions")
    op.drop_table("analytics_calendar")
    op.drop_table("analytics_areas")
    op.drop_table("analytics_stamps")
