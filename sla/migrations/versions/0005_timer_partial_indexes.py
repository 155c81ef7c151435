"""timers: an index of the armed ones and one of the fired ones, by due time

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 12:30:00

The (state, due_at) index served the timer engine's due query and the overdue list, but SQLite
also chose it for the engine's claim (`id IN (…) AND state = 'armed'`), reading every armed
timer's entry: with a million open clocks a batch of 500 claims took 300 ms instead of 8. Two
partial indexes by due time, one of armed timers (the engine's work, which fired timers leave)
and one of fired ones (the overdue list), serve both queries and leave the claim the primary key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _partial(state: str) -> dict[str, sa.TextClause]:
    where = sa.text(f"state = '{state}'")
    return {"sqlite_where": where, "postgresql_where": where}


def upgrade() -> None:
    op.drop_index("ix_sla_timers_due", table_name="sla_timers")
    op.create_index("ix_sla_timers_armed", "sla_timers", ["due_at"], **_partial("armed"))
    op.create_index("ix_sla_timers_fired", "sla_timers", ["due_at"], **_partial("fired"))


def downgrade() -> None:
    op.drop_index("ix_sla_timers_fired", table_name="sla_timers")
    op.drop_index("ix_sla_timers_armed", table_name="sla_timers")
    op.create_index("ix_sla_timers_due", "sla_timers", ["state", "due_at"])
