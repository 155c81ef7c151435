"""The same-matter lookups read the index they were built for (intake/matters.py): the open
tickets' `ix_intake_tickets_matter` for the unclustered and a cluster's candidates, the
citizen's own through `ix_intake_tickets_citizen_index`, newest first with no sort, on the
migrated SQLite schema. A lookup that fell back to another index read every ticket of a cluster
or every closed ticket of its window on each report (docs/performance.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from intake import matters
from shared import db, migrations
from tests.support import query_plans

PARAMS = {
    "category": "城市管理/市容环境/占道经营",
    "area_code": "BJ010101",
    "since": datetime(2026, 11, 1, tzinfo=UTC),
    "cluster_id": "C1",
    "citizen_index": "x",
}


@pytest.mark.parametrize(
    ("among", "index"),
    [
        ("loose", "ix_intake_tickets_matter"),
        ("cluster", "ix_intake_tickets_matter"),
        ("own", "ix_intake_tickets_citizen_index"),
    ],
)
async def test_each_lookup_reads_its_index_newest_first(
    tmp_path: Path, among: matters.Among, index: str
) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}")
    try:
        await migrations.upgrade(engine, "intake")

        async def lookup() -> None:
            async with AsyncSession(engine) as session:
                await session.execute(matters._open_at_place(among, area_known=True), PARAMS)

        plans = await query_plans(engine, lookup)
    finally:
        await engine.dispose()
    # One step, on its index: no sort after it.
    assert len(plans) == 1 and " / " not in plans[0], plans
    assert f"USING INDEX {index} " in plans[0], plans
