"""sla timers: a tick's cost with 10,000 and with 1,000,000 open clocks, nothing due and 10,000 due.

A tick is what sla's scheduler runs every `SLA_TIMER_TICK_SECONDS`: `fire_due_timers` and
`escalate_supervision` (sla/app.py), on the service's SQLite file in the embedded form (one
process, `shared.db`'s engine and pragmas). For each number of open clocks in
`BENCH_SLA_OPEN` (default "10000,1000000"; each clock with its completion timer armed, due in
30 days, as sla arms them) the bench measures

- the tick with nothing due (milliseconds, the best of `IDLE_ROUNDS`): what the scheduler costs
  when it has nothing to do, the figure that must not grow with what is open;
- the tick with `BENCH_SLA_DUE` (default 10,000) timers due: timers fired per second
  (`sla.breached` written to the outbox with each timer's state, exactly once), a fresh set due
  in each of `ROUNDS` rounds, the best kept.

Each figure sits beside the same figure with the smallest number of open clocks, measured in the
same run; issue 10's target is a tick within 1.5× from 10k to 1M open clocks. The tick reads
only due rows through the index of armed timers by due time, so what is open should not count.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import async_sessionmaker

from shared import db, migrations
from shared.clock import FrozenClock
from sla.models import DeadlineClock, Timer
from sla.supervising import escalate_supervision
from sla.timer_engine import fire_due_timers
from tests.bench.figures import Figure

OPEN = sorted(
    int(s) for s in os.environ.get("BENCH_SLA_OPEN", "10000,1000000").split(",") if s.strip()
)
DUE = int(os.environ.get("BENCH_SLA_DUE", "10000"))
ROUNDS = 3
IDLE_ROUNDS = 20  # a tick with nothing to do takes about a millisecond: the best of many
CHUNK = 5_000
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


async def _arm(maker: async_sessionmaker, prefix: str, n: int, due: datetime) -> None:  # type: ignore[type-arg]
    """`n` clocks, each with its completion timer armed for `due`."""
    for start in range(0, n, CHUNK):
        ids = range(start, min(start + CHUNK, n))
        clocks = [
            {
                "id": f"K{prefix}{i:07d}",
                "ticket_id": f"T{prefix}{i:07d}",
                "assignment_id": f"A{prefix}{i:07d}",
                "unit_id": "U-BJ01-CG",
                "policy": "default-ordinary@v0",
                "started_at": NOW - timedelta(days=1),
            }
            for i in ids
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
            await session.execute(insert(DeadlineClock), clocks)
            await session.execute(insert(Timer), timers)


async def _tick(maker: async_sessionmaker, clock: FrozenClock) -> tuple[int, float]:  # type: ignore[type-arg]
    """One scheduler tick: the timers fired and the seconds it took."""
    start = time.perf_counter()
    fired = await fire_due_timers(maker, clock)
    await escalate_supervision(maker, clock)
    return fired, time.perf_counter() - start


async def _measure(path: Path, open_clocks: int) -> tuple[float, float]:
    """The idle tick in ms and timers fired per second, with `open_clocks` open."""
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await migrations.upgrade(engine, "sla")
        maker = async_sessionmaker(engine, expire_on_commit=False)
        await _arm(maker, "open", open_clocks, NOW + timedelta(days=30))  # armed, not due
        clock = FrozenClock(NOW)
        idle = min([(await _tick(maker, clock))[1] for _ in range(IDLE_ROUNDS)])
        rate = 0.0
        for r in range(ROUNDS):
            await _arm(maker, f"due{r}-", DUE, NOW - timedelta(minutes=1))
            fired, seconds = await _tick(maker, clock)
            assert fired == DUE, fired  # each due timer once, none of the open ones
            rate = max(rate, fired / seconds)
        return idle * 1000, rate
    finally:
        await engine.dispose()


async def rows() -> AsyncIterator[Figure | str]:
    baseline: tuple[float, float] | None = None
    with tempfile.TemporaryDirectory() as d:
        for n in OPEN:
            idle, rate = await _measure(Path(d) / f"sla-{n}.db", n)
            label = f"{n:,} open clocks"
            yield Figure(
                f"{label}: tick, nothing due", idle, "ms", baseline[0] if baseline else None
            )
            yield Figure(
                f"{label}: tick, {DUE:,} due",
                rate,
                "timers/s",
                baseline[1] if baseline else None,
                note=f"{DUE / rate:.2f} s a tick",
            )
            baseline = baseline or (idle, rate)
