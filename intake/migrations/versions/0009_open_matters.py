"""the same-matter index holds open tickets only

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 12:40:00

The same-matter lookups (intake/matters.py) ask for open tickets of one category at one place
within a window, newest first. With every ticket in the index, each lookup stepped over the
closed ones of its window to find the open ones, reading each one's row for its status: about
a thousand rows a report with a million tickets stored. The index now holds only open tickets
(its condition is the lookups' own, `models.OPEN_TICKET`, written out here as it was when this
migration was made).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["category", "area_code", "cluster_id", "received_at"]
OPEN = sa.text("status NOT IN ('answered', 'closed')")


def upgrade() -> None:
    op.drop_index("ix_intake_tickets_matter", table_name="intake_tickets")
    op.create_index(
        "ix_intake_tickets_matter",
        "intake_tickets",
        COLUMNS,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_intake_tickets_matter", table_name="intake_tickets")
    op.create_index("ix_intake_tickets_matter", "intake_tickets", COLUMNS)
