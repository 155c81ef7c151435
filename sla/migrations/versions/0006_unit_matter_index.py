"""clocks: an index of one unit's clocks of one matter by start

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 13:10:00

On a complaint's dispatch sla counts the complaints on its matter against the lead unit within
the window (重复投诉, `supervising.complaints_against`). SQLite read that through the area's
index, every clock of the area since the platform began: a second a dispatch with a million
tickets stored. This index bounds it to the unit's clocks of the matter in the window.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_sla_clocks_unit_matter",
        "sla_clocks",
        ["unit_id", "category", "area_code", "started_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_sla_clocks_unit_matter", table_name="sla_clocks")
