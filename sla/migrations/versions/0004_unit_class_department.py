"""unit classes are routing's: stored 'city' becomes 'department'

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:00:00

sla used to guess a unit's class from its name and called the city's departments 'city'.
routing now decides the class (shared.events.routing.UnitClass) and calls them 'department', so
stored policies and clocks are renamed to match; nothing else about them changes. Clocks keep
the other classes they were given: their deadlines stay as they were armed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("sla_policies", "sla_clocks")


def _rename(old: str, new: str) -> None:
    # Plain UPDATEs through a lightweight table: the same statement on SQLite and PostgreSQL.
    for name in TABLES:
        table = sa.table(name, sa.column("unit_class", sa.String()))
        op.execute(
            table.update()
            .where(table.c.unit_class == op.inline_literal(old))
            .values(unit_class=op.inline_literal(new))
        )


def upgrade() -> None:
    _rename("city", "department")


def downgrade() -> None:
    _rename("department", "city")
