"""Two replicas fire the same due timers on PostgreSQL (FOR UPDATE SKIP LOCKED): every timer
fires once, and both share the work."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from shared import db, migrations
from shared.clock import FrozenClock
from sla import timer_engine
from sla.config import SlaSettings
from sla.models import DeadlineClock, Timer, outbox
from tests.support import require_postgres

CHINA = ZoneInfo("Asia/Shanghai")
N = 400


@pytest.mark.postgres
async def test_two_firers_share_due_timers_and_fire_each_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    require_postgres()
    monkeypatch.setattr(timer_engine, "settings", lambda: SlaSettings(timer_batch_size=20))
    name = f"hl_sla_skip_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    engines = [db.create_engine(url), db.create_engine(url)]
    try:
        await migrations.upgrade(engines[0], "sla")
        start = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA)
        makers = [async_sessionmaker(e, expire_on_commit=False) for e in engines]
        async with makers[0]() as session, session.begin():
            for i in range(N):
                clock_id = f"KA{i:05d}"
                session.add(
                    DeadlineClock(
                        id=clock_id,
                        ticket_id=f"T{i}",
                        assignment_id=f"A{i:05d}",
                        unit_id="U-BJ01-CG",
                        policy="default-ordinary@v0",
                        started_at=start,
                    )
                )
                session.add(
                    Timer(
                        clock_id=clock_id,
                        stage="sign",
                        due_at=start + timedelta(hours=1),
                        deadline_at=start + timedelta(hours=1),
                        state="armed",
                    )
                )
        now = FrozenClock(start + timedelta(days=1))
        counts = await asyncio.gather(*(timer_engine.fire_due_timers(m, now) for m in makers))
        assert sum(counts) == N
        async with makers[0]() as session:
            events = await session.scalar(select(func.count()).select_from(outbox.table))
            distinct = await session.scalar(
                select(func.count(func.distinct(outbox.table.c.ticket_id)))
            )
            armed = await session.scalar(
                select(func.count()).select_from(Timer).where(Timer.state == "armed")
            )
        assert (events, distinct, armed) == (N, N, 0)
    finally:
        for e in engines:
            await e.dispose()
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
