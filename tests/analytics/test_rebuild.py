"""Rebuild equals incremental; duplicates and reordering across tickets change nothing."""

from __future__ import annotations

import asyncio
import os
import random
import sys
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import delete, select

from analytics import rollup
from analytics.facts import Key
from analytics.models import (
    AssignmentFact,
    DailyAggregate,
    MonthlyAggregate,
    StoredEvent,
    TicketFact,
    Unit,
    inbox,
)
from analytics.rates import COUNT_NAMES, Tally
from analytics.rebuild import rebuild
from shared.events import Envelope
from shared.settings import PlatformSettings
from tests.analytics.streams import at, deliver, handled_ticket
from tests.analytics.test_metrics import november
from tests.support import SUPERVISOR


def rolled_up(daily: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The monthly rows the daily rows call for (analytics.rollup), as the table orders them."""
    sums = {Key(*row[:5]): Tally(**dict(zip(COUNT_NAMES, row[5:], strict=True))) for row in daily}
    return sorted(
        (*key, *(getattr(tally, n) for n in COUNT_NAMES))
        for key, tally in rollup.rollup(sums).items()
    )


async def snapshot(app: FastAPI, client: httpx.AsyncClient) -> dict[str, Any]:
    """Every aggregate row, every fact row and the API's figures; checks on the way that the
    monthly roll-up holds exactly the sums of the daily rows."""
    runtime = app.state.runtimes["analytics"]
    async with runtime.sessionmaker() as session:
        daily = (
            await session.execute(
                select(DailyAggregate.__table__).order_by(
                    *DailyAggregate.__table__.primary_key.columns
                )
            )
        ).all()
        monthly = (
            await session.execute(
                select(MonthlyAggregate.__table__).order_by(
                    *MonthlyAggregate.__table__.primary_key.columns
                )
            )
        ).all()
        tickets = (
            await session.execute(select(TicketFact.__table__).order_by(TicketFact.ticket_id))
        ).all()
        assignments = (
            await session.execute(
                select(AssignmentFact.__table__).order_by(AssignmentFact.assignment_id)
            )
        ).all()
        units = (await session.execute(select(Unit.__table__).order_by(Unit.unit_id))).all()
    r = await client.get(
        "/api/v1/analytics/rates",
        params={"from": "2026-09-01", "to": "2026-12-31", "group_by": "unit,area,month"},
        headers=SUPERVISOR,
    )
    assert r.status_code == 200, r.text
    assert monthly and [tuple(row) for row in monthly] == rolled_up([tuple(r) for r in daily])
    return {
        "daily": [tuple(row) for row in daily],
        "monthly": [tuple(row) for row in monthly],
        "tickets": [tuple(row) for row in tickets],
        "assignments": [tuple(row) for row in assignments],
        "units": [tuple(row) for row in units],
        "api": r.json(),
    }


def more() -> list[Envelope]:
    out: list[Envelope] = []
    for i, unit in enumerate(["U-BJ0102", "U-BJ0103", "U-BJ0201"] * 4):
        out += handled_ticket(
            f"M{i}",
            unit,
            at(10 + i % 2, 3 + i, 9),
            solved=["solved", "partly_solved", "unsolved"][i % 3],
            satisfaction=["satisfied", "basically_satisfied", "dissatisfied"][i % 3],
            in_time=i % 4 != 0,
        )
    return out


def interleaved(events: list[Envelope], seed: int) -> list[Envelope]:
    """Shuffle across tickets while keeping each ticket's own order (one partition per key)."""
    queues: dict[str, list[Envelope]] = {}
    for e in events:
        queues.setdefault(e.ticket_id, []).append(e)
    rng = random.Random(seed)
    out: list[Envelope] = []
    while queues:
        ticket = rng.choice(sorted(queues))
        out.append(queues[ticket].pop(0))
        if not queues[ticket]:
            del queues[ticket]
    return out


async def wipe(app: FastAPI) -> None:
    runtime = app.state.runtimes["analytics"]
    async with runtime.sessionmaker() as session, session.begin():
        for model in (
            MonthlyAggregate,
            DailyAggregate,
            AssignmentFact,
            TicketFact,
            Unit,
            StoredEvent,
        ):
            await session.execute(delete(model))
        await session.execute(delete(inbox.table))


async def test_rebuild_gives_exactly_the_incremental_numbers(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await deliver(app, november() + more())
    incremental = await snapshot(app, client)
    assert incremental["daily"] and incremental["api"]["groups"]
    seen: list[tuple[int, int]] = []
    result = await rebuild(
        app.state.runtimes["analytics"].sessionmaker,
        progress=lambda done, total: seen.append((done, total)),
        batch_size=7,
    )
    assert result.tickets == 7 + 12
    assert seen[-1][0] == seen[-1][1] == result.events
    assert await snapshot(app, client) == incremental


async def test_reordered_and_duplicated_delivery_gives_the_same_numbers(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    events = november() + more()
    await deliver(app, events)
    first = await snapshot(app, client)
    for seed in (1, 2):
        await wipe(app)
        shuffled = interleaved(events, seed)
        with_duplicates = [e for e in shuffled for _ in range(1 + (hash(e.event_id) % 2))]
        await deliver(app, with_duplicates)
        again = await snapshot(app, client)
        # Unit names are learned from the last dispatch to arrive; everything else is equal.
        assert {k: v for k, v in again.items() if k != "units"} == {
            k: v for k, v in first.items() if k != "units"
        }


async def test_the_rebuild_command_shows_progress(app: FastAPI, platform: PlatformSettings) -> None:
    await deliver(app, november())
    env = {**os.environ, "HOTLINE_DATA_DIR": str(platform.data_dir)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services",
        "analytics",
        "rebuild",
        "--batch-size",
        "10",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    assert "rebuild [" in err.decode() and "100%" in err.decode()
    assert "rebuilt 7 tickets" in out.decode()
