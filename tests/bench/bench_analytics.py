"""analytics query latency: the month's rates and the monthly ranking answered from the daily
aggregates, against the same figures computed by scanning the fact table (the baseline).

The data are synthetic: `BENCH_ANALYTICS_TICKETS` (default 100,000; 200,000 takes about two minutes here) tickets over 91 days, 30
units (one area each), 10 categories and 4 channels with skewed shares, each with a lead assignment and a callback
verdict, written as fact rows and as their aggregates (the same `contributions` the consumer
stores). Figures are queries per second; the ratio is against the fact scan.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import case, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from analytics import aggregates, service
from analytics.aggregates import Filters
from analytics.facts import (
    ASSIGNMENT_FIELDS,
    TICKET_FIELDS,
    AssignmentState,
    Exclusions,
    History,
    Key,
    TicketState,
    contributions,
    derive,
)
from analytics.models import AssignmentFact, TicketFact
from analytics.rates import Tally
from shared import db, migrations
from shared.clock import CHINA
from tests.bench import Row

N_TICKETS = int(os.environ.get("BENCH_ANALYTICS_TICKETS", "100000"))
START = datetime(2026, 9, 1, 8, tzinfo=CHINA)
UNITS = [f"U-BENCH-{i:02d}" for i in range(30)]
CATEGORIES = [f"类别{i}/子类{j}" for i in range(5) for j in range(2)]
CATEGORY_WEIGHTS = [30, 20, 12, 10, 8, 6, 5, 4, 3, 2]  # a few topics carry most tickets
CHANNELS = ["phone", "app", "wechat", "web"]
CHANNEL_WEIGHTS = [70, 15, 10, 5]
SOLVED = ["solved", "solved", "solved", "partly_solved", "unsolved"]
SATISFACTION = ["satisfied", "satisfied", "satisfied", "basically_satisfied", "dissatisfied"]


def synthetic(i: int, rng: random.Random) -> History:
    received = START + timedelta(days=rng.randrange(91), minutes=rng.randrange(600))
    unit = UNITS[i % len(UNITS)]
    dispatched = received + timedelta(minutes=5)
    ticket = TicketState(
        ticket_id=f"B{i:08d}",
        received_at=received,
        channel=rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0],
        kind="complaint",
        category=rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0],
        urgency="ordinary",
        area_code=f"BJ{1 + i % 30 // 10:02d}{1 + i % 30 % 9:02d}",  # each unit serves one area
        citizen_ref=f"c{rng.randrange(N_TICKETS)}",
        replied_round=1,
        replied_at=dispatched + timedelta(hours=rng.randrange(1, 30)),
        reply_assignment_id=f"B{i:08d}-a",
        callback_round=1,
        callback_revision=1,
        callback_status="verdict",
        callback_at=dispatched + timedelta(hours=40),
        callback_unit_id=unit,
        solved=SOLVED[rng.randrange(5)],
        satisfaction=SATISFACTION[rng.randrange(5)],
    )
    a = AssignmentState(
        assignment_id=f"B{i:08d}-a",
        ticket_id=ticket.ticket_id,
        unit_id=unit,
        unit_name=unit,
        role="lead",
        dispatch_count=1,
        dispatched_at=dispatched,
        signed_at=dispatched + timedelta(hours=rng.randrange(30)),
        contacted_at=dispatched + timedelta(hours=rng.randrange(30)),
        sign_by=dispatched + timedelta(hours=24),
        respond_by=dispatched + timedelta(hours=24),
        complete_by=dispatched + timedelta(hours=24),
    )
    return derive(History(ticket, {a.assignment_id: a}), Exclusions())


async def load(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    rng = random.Random(12345)
    sums: dict[Key, Tally] = {}
    async with sessionmaker() as session, session.begin():
        batch: list[History] = []
        for i in range(N_TICKETS):
            h = synthetic(i, rng)
            for key, tally in contributions(h).items():
                sums[key] = sums.get(key, Tally()) + tally
            batch.append(h)
            if len(batch) == 5000 or i == N_TICKETS - 1:
                await session.execute(
                    insert(TicketFact),
                    [{n: getattr(b.ticket, n) for n in TICKET_FIELDS} for b in batch],
                )
                await session.execute(
                    insert(AssignmentFact),
                    [
                        {n: getattr(a, n) for n in ASSIGNMENT_FIELDS}
                        for b in batch
                        for a in b.assignments.values()
                    ],
                )
                batch.clear()
        await aggregates.add(session, sums)


async def scan_month(session: AsyncSession, first: datetime, end: datetime) -> dict[str, int]:
    """The baseline: the month's verdicts, completions and responses by unit, from the facts."""
    t = TicketFact
    verdicts = (
        await session.execute(
            select(
                t.callback_unit_id,
                func.count(),
                func.sum(case((t.solved == "solved", 1), else_=0)),
                func.sum(case((t.satisfaction == "satisfied", 1), else_=0)),
            )
            .where(t.callback_at >= first, t.callback_at < end, t.callback_status == "verdict")
            .group_by(t.callback_unit_id)
        )
    ).all()
    a = AssignmentFact
    leads = (
        await session.execute(
            select(a.unit_id, func.count(), func.sum(case((a.responded_on_time, 1), else_=0)))
            .where(a.dispatched_at >= first, a.dispatched_at < end, a.role == "lead")
            .group_by(a.unit_id)
        )
    ).all()
    return {"verdicts": sum(r[1] for r in verdicts), "leads": sum(r[1] for r in leads)}


async def rate(run: Callable[[], Awaitable[object]], seconds: float = 3.0) -> float:
    await run()  # warm up
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        await run()
        n += 1
    return n / (time.perf_counter() - start)


async def rows() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = db.create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'analytics.db'}")
        await migrations.upgrade(engine, "analytics")
        sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        await load(sessionmaker)
        first_day, last_day = date(2026, 10, 1), date(2026, 10, 31)
        first = datetime(2026, 10, 1, tzinfo=CHINA)
        end = datetime(2026, 11, 1, tzinfo=CHINA)
        async with sessionmaker() as session:
            scanned = await scan_month(session, first, end)
            tally = await service.period_tally(session, first_day, last_day, Filters())
            assert (tally.verdicts, tally.leads) == (scanned["verdicts"], scanned["leads"])

            async def scan() -> object:
                return await scan_month(session, first, end)

            async def month_rates() -> object:
                return await service.period_tally(session, first_day, last_day, Filters())

            async def ranking() -> object:
                return await service.ranking(
                    session,
                    first=first_day,
                    last=last_day,
                    unit_class=None,
                    metric="composite_score",
                )

            baseline = await rate(scan)
            from_aggregates = await rate(month_rates)
            ranked = await rate(ranking)
        await engine.dispose()
    label = f"{N_TICKETS // 1000}k tickets"
    return [
        Row(f"analytics: month by unit, fact scan ({label})", baseline, "queries/s", 1.0),
        Row(
            "analytics: month's rates from aggregates",
            from_aggregates,
            "queries/s",
            from_aggregates / baseline,
        ),
        Row("analytics: monthly ranking from aggregates", ranked, "queries/s", ranked / baseline),
    ]
