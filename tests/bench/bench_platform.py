"""Platform throughput, each figure against a baseline measured in the same run.

- intake accept: POST /api/v1/tickets through the ASGI app, vs. the same number of bare
  SQLite inserts of the ticket row (baseline: the storage cost alone).
- pipeline: tickets/s from the first POST until every ticket is dispatched by routing and
  armed by sla (through outbox → bus → inbox), vs. intake accept alone.
- outbox relay: events/s published from the outbox onto the embedded bus, vs. inserting the
  same rows into a plain SQLite table.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, func, insert, select

from services import demo
from services.bootstrap import build_app
from shared.bus import EmbeddedBus, RetryPolicy
from shared.clock import SystemClock
from shared.db import create_engine
from shared.events.callback import TicketClosed
from shared.outbox import OutboxRelay
from shared.settings import PlatformSettings
from tests.bench import Row
from tests.support import COMPLAINT, GATEWAY

N_TICKETS = int(os.environ.get("BENCH_TICKETS", "300"))
N_EVENTS = int(os.environ.get("BENCH_EVENTS", "5000"))


async def bare_inserts(path: Path, n: int) -> float:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("body", Text))
    async with engine.begin() as conn:
        await conn.run_sync(table.metadata.create_all)
    start = time.perf_counter()
    for i in range(n):  # one transaction per row, like one request per ticket
        async with engine.begin() as conn:
            await conn.execute(insert(table).values(body=COMPLAINT["description"] * 2 + str(i)))
    elapsed = time.perf_counter() - start
    await engine.dispose()
    return elapsed


async def pipeline(data_dir: Path, n: int) -> tuple[float, float]:
    platform = PlatformSettings(data_dir=data_dir, outbox_poll_seconds=0.05)
    app = build_app(platform=platform)
    async with app.router.lifespan_context(app):
        await demo.load_directory(app.state.runtimes)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            start = time.perf_counter()
            for _ in range(n):
                r = await client.post("/api/v1/tickets", json=COMPLAINT, headers=GATEWAY)
                r.raise_for_status()
            accepted = time.perf_counter() - start
            sla = app.state.runtimes["sla"]
            from sla.models import DeadlineClock

            while True:
                async with sla.sessionmaker() as session:
                    armed = await session.scalar(
                        select(func.count())
                        .select_from(DeadlineClock)
                        .where(DeadlineClock.scope == "assignment")
                    )
                if armed and armed >= 2 * n:  # lead + assisting unit per ticket
                    break
                await asyncio.sleep(0.02)
            return accepted, time.perf_counter() - start


async def relay(data_dir: Path, n: int) -> tuple[float, float]:
    from shared.db import new_metadata
    from shared.outbox import Outbox

    metadata = new_metadata()
    outbox = Outbox(metadata, "bench")
    engine = create_engine(f"sqlite+aiosqlite:///{data_dir / 'outbox.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    from sqlalchemy.ext.asyncio import async_sessionmaker

    sessions = async_sessionmaker(engine, expire_on_commit=False)
    at = datetime.now(UTC)
    async with sessions() as session, session.begin():
        for i in range(n):
            await outbox.emit(
                session, TicketClosed(reason=str(i)), ticket_id=f"T{i % 97}", occurred_at=at
            )
    bus = EmbeddedBus(data_dir / "bus.db", RetryPolicy())
    await bus.start()
    r = OutboxRelay(outbox, engine, bus, SystemClock(), batch_size=500)
    start = time.perf_counter()
    while await r.publish_pending():
        pass
    published = time.perf_counter() - start
    await bus.stop()

    plain = Table(
        "plain",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("key", String(64)),
        Column("body", Text),
    )
    async with engine.begin() as conn:
        await conn.run_sync(plain.metadata.create_all)
    rows = [
        {"key": f"T{i % 97}", "body": TicketClosed(reason=str(i)).model_dump_json()}
        for i in range(n)
    ]
    start = time.perf_counter()
    for i in range(0, n, 500):
        async with engine.begin() as conn:
            await conn.execute(insert(plain), rows[i : i + 500])
    baseline = time.perf_counter() - start
    await engine.dispose()
    return published, baseline


async def rows() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        base = await bare_inserts(d / "bare.db", N_TICKETS)
        accepted, dispatched = await pipeline(d / "pipeline", N_TICKETS)
        published, plain = await relay(d, N_EVENTS)
    return [
        Row("bare SQLite insert (baseline)", N_TICKETS / base, "rows/s", 1.0),
        Row(
            "intake accept (POST /api/v1/tickets)",
            N_TICKETS / accepted,
            "tickets/s",
            base / accepted,
        ),
        Row(
            "accepted → dispatched + armed",
            N_TICKETS / dispatched,
            "tickets/s",
            accepted / dispatched,
        ),
        Row("plain batched insert (baseline)", N_EVENTS / plain, "rows/s", 1.0),
        Row("outbox relay → embedded bus", N_EVENTS / published, "events/s", plain / published),
    ]
