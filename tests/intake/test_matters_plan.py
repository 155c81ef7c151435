"""The same-matter lookups read the index they were built for (intake/matters.py): the open
tickets' `ix_intake_tickets_matter` for the unclustered and a cluster's candidates, the
citizen's own through `ix_intake_tickets_citizen_index`, newest first with no sort, on the
migrated SQLite schema. A lookup that fell back to another index read every ticket of a cluster
or every closed ticket of its window on each report (docs/performance.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake import matters
from shared import db, migrations

PARAMS = {
    "category": "城市管理/市容环境/占道经营",
    "area_code": "BJ010101",
    "since": "2026-11-01 00:00:00.000000",
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
        statement = matters._open_at_place(among, area_known=True)
        compiled = statement.compile(engine.sync_engine)
        async with engine.connect() as connection:
            values = {**compiled.params, **PARAMS}
            assert compiled.positiontup is not None
            rows = await connection.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}", tuple(values[k] for k in compiled.positiontup)
            )
            plan = [str(row._mapping["detail"]) for row in rows]
    finally:
        await engine.dispose()
    assert len(plan) == 1 and f"USING INDEX {index} " in plan[0], plan
    assert "TEMP B-TREE" not in " ".join(plan)
