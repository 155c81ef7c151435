"""analytics query latency, at the pilot's scale (facts) and at ten million tickets a year
(aggregate rows), each query from the monthly roll-up against the same query over the daily
rows (and, at the small scale, against a scan of the fact table).

Small scale: `BENCH_ANALYTICS_TICKETS` (default 50,000) synthetic tickets over 91 days, 30
units (one area each), 10 categories and 4 channels with skewed shares, each with a lead
assignment and a callback verdict, written as fact rows and as their aggregates (the same
`contributions` the consumer stores).

Ten-million scale: the aggregates' size depends on how many (day, unit, area, category,
channel) combinations are not empty, not on tickets, so the daily rows are inserted directly:
`BENCH_ANALYTICS_DAILY_ROWS` (default 2,000,000; 2–5 million is what 10M tickets a year give)
over 365 days, `BENCH_ANALYTICS_UNITS` (300) units, `BENCH_ANALYTICS_AREAS` (40) areas,
`BENCH_ANALYTICS_CATEGORIES` (30) categories and 10 channels with Zipf-like shares; the
roll-up is then filled from them in SQL. Loaded into SQLite and, when PostgreSQL answers at
`BENCH_ANALYTICS_PG` (default postgresql://postgres@127.0.0.1:5432/postgres), into a fresh
database dropped afterwards (`BENCH_ANALYTICS_PG=` skips it). `BENCH_ANALYTICS_SCALE=0` skips
this part. Each query's median milliseconds are printed; the rows are queries per second with
the ratio against the daily rows.
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import case, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

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
from analytics.rates import COUNT_NAMES, Tally
from shared import db, migrations
from shared.clock import CHINA
from tests.bench import Row

N_TICKETS = int(os.environ.get("BENCH_ANALYTICS_TICKETS", "50000"))
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


async def rate(run: Callable[[], Awaitable[object]], seconds: float = 2.0) -> float:
    await run()  # warm up
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        await run()
        n += 1
    return n / (time.perf_counter() - start)


async def median_ms(run: Callable[[], Awaitable[object]], budget: float = 1.0) -> float:
    """Median wall time of `run` in ms: at least 3 runs (2 when slow), up to `budget` s."""
    samples: list[float] = []
    start = time.perf_counter()
    t = time.perf_counter()
    await run()  # warm up; kept as a sample when the query is slow anyway
    if time.perf_counter() - t > 0.5:
        samples.append(time.perf_counter() - t)
    while len(samples) < (2 if samples and samples[0] > 0.5 else 3) or (
        time.perf_counter() - start < budget and len(samples) < 25
    ):
        t = time.perf_counter()
        await run()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1000


async def small_scale() -> list[Row]:
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
            with aggregates.daily_only():
                daily_rates = await rate(month_rates)
                daily_ranked = await rate(ranking)
            monthly_rates = await rate(month_rates)
            monthly_ranked = await rate(ranking)
        await engine.dispose()
    label = f"{N_TICKETS // 1000}k tickets"
    return [
        Row(f"analytics: month by unit, fact scan ({label})", baseline, "queries/s", 1.0),
        Row("  month's rates, daily rows", daily_rates, "queries/s", daily_rates / baseline),
        Row(
            "  month's rates, monthly roll-up", monthly_rates, "queries/s", monthly_rates / baseline
        ),
        Row("  monthly ranking, daily rows", daily_ranked, "queries/s", daily_ranked / baseline),
        Row("  monthly ranking, roll-up", monthly_ranked, "queries/s", monthly_ranked / baseline),
    ]


# --- ten million tickets a year: aggregate rows inserted directly -------------------------

SCALE = os.environ.get("BENCH_ANALYTICS_SCALE", "1") != "0"
DAILY_ROWS = int(os.environ.get("BENCH_ANALYTICS_DAILY_ROWS", "2000000"))
N_UNITS = int(os.environ.get("BENCH_ANALYTICS_UNITS", "300"))
N_AREAS = int(os.environ.get("BENCH_ANALYTICS_AREAS", "40"))
N_CATEGORIES = int(os.environ.get("BENCH_ANALYTICS_CATEGORIES", "30"))
SCALE_CHANNELS = ["phone", "app", "wechat", "web", "weibo", "email", "sms", "letter", "visit"]
SCALE_CHANNELS.append("mini_program")
PG = os.environ.get("BENCH_ANALYTICS_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
YEAR = 2026
DAILY_COLUMNS = [*aggregates.STORED, *COUNT_NAMES]


def _cumulative(n: int, exponent: float = 1.0) -> list[float]:
    """Zipf-like shares: the k-th value weighs 1/k^exponent."""
    out, acc = [], 0.0
    for k in range(1, n + 1):
        acc += 1 / k**exponent
        out.append(acc)
    return out


def _counts(rng: random.Random) -> tuple[int, ...]:
    """One row's counts: a few tickets, assignments and verdicts that add up sensibly."""
    received = rng.randrange(1, 7)
    verdicts = rng.randrange(0, received + 1)
    solved = rng.randrange(0, verdicts + 1)
    satisfied = rng.randrange(0, verdicts + 1)
    completed = rng.randrange(0, received + 1)
    leads = rng.randrange(0, received + 1)
    values = {
        "received": received,
        "excluded": int(rng.random() < 0.02),
        "answered": rng.randrange(0, 2),
        "dispatched": received - 1,
        "completed": completed,
        "completed_on_time": rng.randrange(0, completed + 1),
        "reopened": int(rng.random() < 0.05),
        "handled": completed,
        "called_back": verdicts,
        "handling_count": completed,
        "handling_seconds": completed * rng.randrange(20000, 400000),
        "assignments": leads + rng.randrange(0, 2),
        "returned": int(rng.random() < 0.05),
        "leads": leads,
        "leads_responded": rng.randrange(0, leads + 1),
        "verdicts": verdicts,
        "solved": solved,
        "partly_solved": verdicts - solved,
        "satisfied": satisfied,
        "basically_satisfied": verdicts - satisfied,
    }
    return tuple(values.get(n, 0) for n in COUNT_NAMES)


def scale_rows(iso_days: bool) -> Iterator[tuple[object, ...]]:
    """`DAILY_ROWS` distinct daily rows over the year, day by day in key order (the same rows
    on every call)."""
    rng = random.Random(10_000_000)
    pool = [_counts(rng) for _ in range(4096)]
    units = [f"U-{i:03d}" for i in range(N_UNITS)]
    areas = [f"BJ{1 + i // 8:02d}{1 + i % 8:02d}" for i in range(N_AREAS)]  # district, street
    categories = [f"类别{i // 5:02d}/子类{i % 5}" for i in range(N_CATEGORIES)]
    weights = [_cumulative(len(v)) for v in (units, areas, categories, SCALE_CHANNELS)]
    days = [date(YEAR, 1, 1) + timedelta(days=d) for d in range(365)]
    for d, day in enumerate(days):
        want = DAILY_ROWS * (d + 1) // 365 - DAILY_ROWS * d // 365
        seen: set[tuple[int, int, int, int]] = set()
        while len(seen) < want:
            k = want - len(seen)
            draws = zip(
                *(
                    rng.choices(range(len(w)), cum_weights=w, k=k)
                    for w in weights  # one list per dimension
                ),
                strict=True,
            )
            seen.update(draws)
        stamp: object = day.isoformat() if iso_days else day
        for u, a, c, ch in sorted(seen):
            yield (
                stamp,
                units[u],
                areas[a],
                categories[c],
                SCALE_CHANNELS[ch],
                *pool[rng.randrange(4096)],
            )


async def _finish_load(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessionmaker() as session, session.begin():
        await aggregates.refill_monthly(session)
        await session.execute(text("ANALYZE"))
    async with sessionmaker() as session:
        daily = await session.scalar(select(func.count()).select_from(aggregates.DAILY))
        rows = (
            await session.execute(
                select(aggregates.MONTHLY.c.grain, func.count()).group_by(
                    aggregates.MONTHLY.c.grain
                )
            )
        ).all()
    return {"daily": int(daily or 0), **{f"grain {g}": int(n) for g, n in rows}}


async def load_sqlite(path: Path) -> tuple[AsyncEngine, dict[str, int], float]:
    started = time.perf_counter()
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    await migrations.upgrade(engine, "analytics")
    await engine.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    marks = ", ".join("?" for _ in DAILY_COLUMNS)
    con.executemany(
        f"INSERT INTO analytics_daily ({', '.join(DAILY_COLUMNS)}) VALUES ({marks})",
        scale_rows(iso_days=True),
    )
    con.commit()
    con.close()
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    counts = await _finish_load(async_sessionmaker(engine, expire_on_commit=False))
    return engine, counts, time.perf_counter() - started


async def load_postgres(name: str) -> tuple[AsyncEngine, dict[str, int], float]:
    started = time.perf_counter()
    url = PG.rsplit("/", 1)[0] + f"/{name}"
    engine = db.create_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1))
    await migrations.upgrade(engine, "analytics")
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table(
            "analytics_daily", records=scale_rows(iso_days=False), columns=DAILY_COLUMNS
        )
    finally:
        await conn.close()
    counts = await _finish_load(async_sessionmaker(engine, expire_on_commit=False))
    return engine, counts, time.perf_counter() - started


SCALE_QUERIES = (
    "month's rates",
    "monthly ranking",
    "hot topics (month)",
    "rates by channel",
    "quarter's rates by unit",
    "Sep 15–Dec 20 rates",
)


async def scale_timings(engine: AsyncEngine) -> dict[str, tuple[float, float]]:
    """Median ms per query: (from the roll-up, from the daily rows). Both give equal answers."""
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    october = (date(YEAR, 10, 1), date(YEAR, 10, 31))
    out: dict[str, tuple[float, float]] = {}
    async with sessionmaker() as session:
        runs: dict[str, Callable[[], Awaitable[object]]] = {
            "month's rates": lambda: service.period_tally(session, *october, Filters()),
            "monthly ranking": lambda: service.ranking(
                session,
                first=october[0],
                last=october[1],
                unit_class=None,
                metric="composite_score",
            ),
            "hot topics (month)": lambda: service.hot_topics(
                session,
                first=october[0],
                granularity="month",
                category_level=1,
                area_level=None,
                filters=Filters(),
            ),
            "rates by channel": lambda: service.grouped(
                session, first=october[0], last=october[1], filters=Filters(), group_by=["channel"]
            ),
            "quarter's rates by unit": lambda: service.grouped(
                session,
                first=date(YEAR, 7, 1),
                last=date(YEAR, 9, 30),
                filters=Filters(),
                group_by=["unit"],
            ),
            "Sep 15–Dec 20 rates": lambda: service.period_tally(
                session, date(YEAR, 9, 15), date(YEAR, 12, 20), Filters(area_code="BJ01")
            ),
        }
        for name in SCALE_QUERIES:
            run = runs[name]
            answer = await run()
            with aggregates.daily_only():
                assert await run() == answer, name  # the roll-up answers what the days do
                daily = await median_ms(run)
            out[name] = (await median_ms(run), daily)
    return out


def _report(label: str, counts: dict[str, int], seconds: float, ms: dict[str, Any]) -> list[Row]:
    print(f"  {label}: loaded in {seconds:.0f}s; rows: {counts}")
    print(f"    {'query':<26} {'roll-up ms':>11} {'daily ms':>10} {'speed-up':>9}")
    out = []
    for name, (fast, slow) in ms.items():
        print(f"    {name:<26} {fast:>11.2f} {slow:>10.1f} {slow / fast:>8.0f}x")
        out.append(Row(f"  {label}: {name}, daily rows", 1000 / slow, "queries/s", 1.0))
        out.append(Row(f"  {label}: {name}, roll-up", 1000 / fast, "queries/s", slow / fast))
    return out


async def ten_million_scale() -> list[Row]:
    label = f"{DAILY_ROWS / 1e6:g}M daily rows"
    out: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        engine, counts, seconds = await load_sqlite(Path(tmp) / "scale.db")
        try:
            out += _report(f"sqlite {label}", counts, seconds, await scale_timings(engine))
        finally:
            await engine.dispose()
    if not PG:
        print("  postgresql: skipped (BENCH_ANALYTICS_PG is empty)")
        return out
    try:
        admin = await asyncpg.connect(PG, timeout=5)
    except (OSError, asyncpg.PostgresError) as e:
        print(f"  postgresql: skipped, {PG} does not answer ({e.__class__.__name__})")
        return out
    name = f"hl_bench_analytics_{uuid.uuid4().hex[:6]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        engine, counts, seconds = await load_postgres(name)
        try:
            out += _report(f"postgres {label}", counts, seconds, await scale_timings(engine))
        finally:
            await engine.dispose()
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
    return out


async def rows() -> list[Row]:
    out = await small_scale()
    if SCALE:
        out += await ten_million_scale()
    return out
