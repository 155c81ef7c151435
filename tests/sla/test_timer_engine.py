"""The timer engine through a simulated month under a frozen clock: every reminder and breach
fires exactly once, through a restart, a jump forward and a jump back; nothing is missed."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlalchemy import select

from services.bootstrap import build_app
from shared.clock import FrozenClock, aware
from shared.events import Envelope
from shared.settings import PlatformSettings
from sla.models import Timer
from tests.sla.support import (
    ASSIST,
    dispatched,
    emitted,
    feed,
    progress,
    received,
    tick,
    ticket_replied,
)
from tests.support import counting_statements

CHINA = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 9, 21, 9, 0, tzinfo=CHINA)  # a Monday; 国庆 falls inside the month


@asynccontextmanager
async def running(platform: PlatformSettings, clock: FrozenClock) -> AsyncIterator[FastAPI]:
    app = build_app(["sla"], platform=platform, clock=clock)
    async with app.router.lifespan_context(app):
        yield app


def scenario() -> list[tuple[datetime, Envelope]]:
    """Twelve tickets over the first fortnight; even ones are handled, odd ones are not."""
    plan: list[tuple[datetime, Envelope]] = []
    for i in range(12):
        at = START + timedelta(hours=29 * i)
        tid, aid = f"T{i:02d}", f"A{i:02d}"
        urgency = "emergency" if i % 4 == 1 else "ordinary"
        plan.append((at, received(tid, at, citizen_ref=f"c{i}", urgency=urgency)))
        plan.append((at, dispatched(tid, aid, at, urgency=urgency)))
        if i % 3 == 0:
            plan.append(
                (
                    at,
                    dispatched(
                        tid,
                        f"B{i:02d}",
                        at,
                        unit_id=ASSIST,
                        role="assist",
                        unit_name="长安街道办事处",
                    ),
                )
            )
        if i % 2 == 0:
            plan.append((at + timedelta(minutes=30), progress("signed", tid, aid, at)))
            plan.append((at + timedelta(hours=3), progress("contacted", tid, aid, at)))
            plan.append((at + timedelta(hours=20), progress("replied", tid, aid, at)))
            plan.append((at + timedelta(hours=20), ticket_replied(tid, aid, at)))
    plan = [(when, e.model_copy(update={"occurred_at": when})) for when, e in plan]
    return sorted(plan, key=lambda p: p[0])


async def test_a_month_of_reminders_and_breaches_fire_exactly_once(
    sla_platform: PlatformSettings,
) -> None:
    clock = FrozenClock(START)
    pending = scenario()
    ticks = 0

    async def hour(app: FastAPI, step: timedelta = timedelta(hours=1)) -> None:
        nonlocal ticks
        clock.advance(step)
        while pending and pending[0][0] <= clock.now():
            await feed(app, pending.pop(0)[1])
        await tick(app)
        ticks += 1

    async with running(sla_platform, clock) as app:
        for _ in range(12 * 24):
            await hour(app)
    # restart in the middle: a new process on the same database
    async with running(sla_platform, clock) as app:
        for _ in range(6 * 24):
            await hour(app)
        await hour(app, timedelta(days=3))  # the host slept: a jump forward
        clock.advance(timedelta(days=-1))  # and NTP pulled it back
        await tick(app)
        for _ in range(10 * 24):
            await hour(app)
        end = clock.now()

        reminders = await emitted(app, "sla.reminder")
        breaches = await emitted(app, "sla.breached")
        async with app.state.runtimes["sla"].sessionmaker() as session:
            timers = (await session.scalars(select(Timer))).all()

    assert not pending
    keys = Counter(
        (e.payload["clock_id"], e.payload["stage"], e.payload.get("threshold", ""), e.type)
        for e in [*reminders, *breaches]
    )
    assert keys and max(keys.values()) == 1, "something fired twice"
    # nothing missed: every timer due before the end left the armed state
    assert not [t for t in timers if t.state == "armed" and aware(t.due_at) <= end]
    fired = {(t.clock_id, t.stage, t.threshold) for t in timers if t.state == "fired"}
    assert fired == {(c, s, th) for c, s, th, _ in keys}
    # handled stages never breach; unhandled ones always do
    breached = {(e.payload["clock_id"], e.payload["stage"]) for e in breaches}
    for i in range(12):
        lead = f"KA{i:02d}"
        stages = {s for c, s in breached if c == lead}
        assert stages == (set() if i % 2 == 0 else {"sign", "response", "completion"}), i
    assert {c for c, _ in breached if c.startswith("T")} == {
        f"TT{i:02d}-R1" for i in range(12) if i % 2
    }
    for e in breaches:
        assert e.occurred_at >= datetime.fromisoformat(e.payload["due_at"])
    for e in reminders:
        assert e.occurred_at < datetime.fromisoformat(e.payload["due_at"])
    assert reminders, "the month had reminders"
    assert ticks > 600


async def test_a_restart_between_due_and_tick_fires_after_it(
    sla_platform: PlatformSettings,
) -> None:
    clock = FrozenClock(datetime(2026, 11, 23, 10, 0, tzinfo=CHINA))
    async with running(sla_platform, clock) as app:
        at = clock.now()
        await feed(app, received("T1", at), dispatched("T1", "A1", at))
    clock.advance(timedelta(days=10))  # down for ten days
    async with running(sla_platform, clock) as app:
        first = await tick(app)
        assert await tick(app) == 0
        breaches = await emitted(app, "sla.breached")
    # lead: sign, response, completion; ticket clock: completion; plus the overdue case
    assert sorted((e.payload["clock_id"], e.payload["stage"]) for e in breaches) == [
        ("KA1", "completion"),
        ("KA1", "response"),
        ("KA1", "sign"),
        ("TT1-R1", "completion"),
    ]
    assert first >= 4
    assert not await emitted(app, "sla.reminder"), "reminders past their deadline are skipped"


async def _fire_overdue(
    platform: PlatformSettings, tickets: int
) -> tuple[list[str], list[Envelope], list[Timer]]:
    """`tickets` tickets received and dispatched, left unhandled for two months, then the
    timer job once: the statements it sent, sla's events, and every timer after it."""
    clock = FrozenClock(START)
    async with running(platform, clock) as app:
        for i in range(tickets):
            tid = f"T{tickets}-{i:03d}"
            await feed(app, received(tid, START), dispatched(tid, f"A{tickets}-{i:03d}", START))
        clock.advance(timedelta(days=60))
        runtime = app.state.runtimes["sla"]
        with counting_statements(runtime.engine.sync_engine) as seen:
            await runtime.run_job("fire_due_timers")
        assert await runtime.run_job("fire_due_timers") == 0, "the job left something due"
        events = await emitted(app)
        async with runtime.sessionmaker() as session:
            timers = list((await session.scalars(select(Timer))).all())
    return seen, events, timers


async def test_a_batch_of_due_timers_fires_in_statements_that_do_not_grow_with_it(
    sla_platform: PlatformSettings, tmp_path: Path
) -> None:
    few, _, _ = await _fire_overdue(sla_platform, 2)
    other = sla_platform.model_copy(update={"data_dir": tmp_path / "other"})
    many, events, timers = await _fire_overdue(other, 20)

    assert len(many) == len(few), (few, many)
    # Every ticket: its reminders skipped (their deadlines passed), each deadline breached
    # once, and one overdue case (督办) opened after its ticket clock's breach.
    assert {t.state for t in timers} == {"fired", "skipped"}
    breaches = Counter(
        (e.payload["clock_id"], e.payload["stage"]) for e in events if e.type == "sla.breached"
    )
    assert len(breaches) == sum(t.state == "fired" for t in timers)
    assert set(breaches.values()) == {1}
    assert not [e for e in events if e.type == "sla.reminder"]
    cases = [
        e for e in events if e.type == "ticket.supervised" and e.payload["reason"] == "overdue"
    ]
    assert sorted(e.ticket_id for e in cases) == [f"T20-{i:03d}" for i in range(20)]
    for case in cases:
        order = [e.event_id for e in events if e.ticket_id == case.ticket_id]
        first_breach = next(
            e for e in events if e.ticket_id == case.ticket_id and e.type == "sla.breached"
        )
        assert order.index(case.event_id) > order.index(first_breach.event_id)
