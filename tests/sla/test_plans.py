"""sla's lookups that grow with what is stored read an index bounded by what they ask for, on
the migrated SQLite schema: the complaints against a unit on one matter (重复投诉), read on each
complaint's dispatch, through the unit's clocks of that matter — not every clock of the area
(a second a dispatch with a million tickets stored, docs/performance.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from shared import db, migrations
from sla.models import SlaTicket
from sla.supervising import complaints_against
from tests.sla.support import AREA, CATEGORY, LEAD
from tests.support import query_plans


async def test_complaints_against_a_unit_read_its_clocks_of_the_matter(tmp_path: Path) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'sla.db'}")
    try:
        await migrations.upgrade(engine, "sla")
        ticket = SlaTicket(id="T1", category=CATEGORY, area_code=AREA)

        async def dispatched_complaint() -> None:
            async with AsyncSession(engine) as session:
                await complaints_against(session, ticket, LEAD, datetime.now(UTC))

        plans = await query_plans(engine, dispatched_complaint)
    finally:
        await engine.dispose()
    assert len(plans) == 1
    assert (
        "USING INDEX ix_sla_clocks_unit_matter (unit_id=? AND category=? AND area_code=? AND started_at>?)"
        in plans[0]
    ), plans
