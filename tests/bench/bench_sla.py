"""sla timer tick: due timers fired per second with few vs. many armed timers (same number due).

The tick reads only due rows through the (state, due_at) index, so a ratio near 1.0 between
100 and 20,000 open timers shows the cost follows what is due, not what is open. Each round
arms a fresh batch due now and fires it (sla.breached into the outbox); the best of a few
rounds is kept. SQLite (embedded mode), one process.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import async_sessionmaker

from shared import db, migrations
from shared.clock import FrozenClock
from sla.models import DeadlineClock, Timer
from sla.timer_engine import fire_due_timers
from tests.bench import Row

DUE = int(os.environ.get("BENCH_SLA_DUE", "300"))
FEW, MANY = 100, int(os.environ.get("BENCH_SLA_OPEN", "20000"))
ROUNDS = 3
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


async def _arm(maker: async_sessionmaker, prefix: str, n: int, due: datetime) -> None:  # type: ignore[type-arg]
    clocks = [
        {
            "id": f"K{prefix}{i:06d}",
            "ticket_id": f"T{prefix}{i:06d}",
            "assignment_id": f"A{prefix}{i:06d}",
            "unit_id": "U-BJ01-CG",
            "policy": "default-ordinary@v0",
            "started_at": NOW - timedelta(days=1),
        }
        for i in range(n)
    ]
    timers = [
        {
            "clock_id": c["id"],
            "stage": "completion",
            "due_at": due,
            "deadline_at": due,
            "state": "armed",
        }
        for c in clocks
    ]
    async with maker() as session, session.begin():
        for chunk in range(0, n, 2000):
            await session.execute(insert(DeadlineClock), clocks[chunk : chunk + 2000])
            await session.execute(insert(Timer), timers[chunk : chunk + 2000])


async def _tick_rate(path: Path, open_timers: int) -> float:
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    await migrations.upgrade(engine, "sla")
    maker = async_sessionmaker(engine, expire_on_commit=False)
    await _arm(maker, "open", open_timers, NOW + timedelta(days=30))  # armed, not due
    best = 0.0
    clock = FrozenClock(NOW)
    for r in range(ROUNDS):
        await _arm(maker, f"due{r}-", DUE, NOW - timedelta(minutes=1))
        start = time.perf_counter()
        fired = await fire_due_timers(maker, clock)
        elapsed = time.perf_counter() - start
        assert fired == DUE, fired
        best = max(best, DUE / elapsed)
    await engine.dispose()
    return best


async def rows() -> list[Row]:
    with tempfile.TemporaryDirectory() as d:
        few = await _tick_rate(Path(d) / "few.db", FEW)
        many = await _tick_rate(Path(d) / "many.db", MANY)
    return [
        Row(f"tick with {FEW} armed timers (baseline)", few, "timers/s", 1.0),
        Row(f"tick with {MANY:,} armed timers", many, "timers/s", many / few),
    ]
