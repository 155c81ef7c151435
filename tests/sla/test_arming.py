"""sla applies receipts, dispatches and cluster flags a run at a time (sla/arming.py): a batch
costs the same statements for two tickets as for eight, and leaves the same clocks, timers,
history, cases and events as the same events applied one at a time. (A failing event mid-batch
is isolated and dead-lettered by the runtime for every consumer: tests/unit/test_batch_delivery.py.)"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from services.bootstrap import build_app
from shared.clock import FrozenClock
from shared.events import Envelope, new_event
from shared.events.intake import ClusterFlagged
from shared.settings import PlatformSettings
from sla.models import ClockHistory, DeadlineClock, SlaTicket, SupervisionCase, Timer
from tests.sla.support import ASSIST, dispatched, emitted, feed, received
from tests.support import delivered_statements


def arming(
    n: int, clock: FrozenClock, *, kind: str = "complaint", prefix: str = "T"
) -> list[Envelope]:
    """N tickets received and dispatched to a lead and an assisting unit, interleaved as the
    bus delivers them; the first report forms a cluster."""
    at = clock.now()
    events: list[Envelope] = []
    for i in range(n):
        tid = f"{prefix}{i:03d}"
        events.append(received(tid, at + timedelta(seconds=i), kind=kind))
        if i == 0:
            flag = ClusterFlagged(
                cluster_id="C1",
                joined_ticket_ids=[tid],
                size=1,
                reporters=1,
                category="城市管理/市容环境/占道经营",
                area_code="BJ010101",
            )
            events.append(new_event(flag, ticket_id=tid, producer="intake", occurred_at=at))
    for i in range(n):
        tid, when = f"{prefix}{i:03d}", at + timedelta(minutes=5, seconds=i)
        events.append(dispatched(tid, f"{prefix}A{i}L", when, kind=kind))
        events.append(
            dispatched(tid, f"{prefix}A{i}S", when, kind=kind, role="assist", unit_id=ASSIST)
        )
    return events


def redispatch(clock: FrozenClock) -> list[Envelope]:
    """The first ticket re-dispatched twice (改派): its lead changes, a case opens."""
    at = clock.now() + timedelta(hours=1)
    return [
        dispatched("T000", f"A0L{k}", at + timedelta(minutes=k), unit_id=f"U-{k}", dispatch_count=k)
        for k in (2, 3)
    ]


@pytest.fixture
async def two_slas(
    sla_platform: PlatformSettings, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[tuple[FastAPI, FastAPI]]:
    """Two sla services on databases of their own: one fed batches, one fed event by event."""
    other = sla_platform.model_copy(update={"data_dir": tmp_path / "other"})
    batched = build_app(["sla"], platform=sla_platform, clock=clock)
    single = build_app(["sla"], platform=other, clock=clock)
    async with batched.router.lifespan_context(batched), single.router.lifespan_context(single):
        yield batched, single


async def statements(app: FastAPI, batch: list[Envelope]) -> list[str]:
    return await delivered_statements(app.state.runtimes["sla"], batch)


async def test_a_batch_of_tickets_costs_what_one_ticket_costs(
    two_slas: tuple[FastAPI, FastAPI], clock: FrozenClock
) -> None:
    # Not complaints: a lead's complaint asks the store how many the unit has had (重复投诉).
    small, large = two_slas
    for app in two_slas:  # warm the caches (calendar)
        await statements(app, arming(1, clock, kind="report", prefix="W"))
    two = await statements(small, arming(2, clock, kind="report"))
    eight = await statements(large, arming(8, clock, kind="report"))
    # The inbox claim, one read each of the run's tickets, clocks, cases, the calendar's stamp
    # and the policies, one insert each of its clocks, tickets, history, timers and events
    # (ClockStarted, the cluster's TicketSupervised): however many tickets.
    assert _shapes(eight) == _shapes(two), eight
    assert len(eight) <= 11, eight
    assert sum(s.startswith("INSERT INTO sla_outbox") for s in eight) == 1


async def test_a_complaint_costs_its_count_and_the_rows_it_counts(
    two_slas: tuple[FastAPI, FastAPI], clock: FrozenClock
) -> None:
    """A lead's complaint, until its unit is supervised for the matter, is counted in the store
    (重复投诉): the run's clocks are written first."""
    small, large = two_slas
    for app in two_slas:
        await statements(app, arming(1, clock, kind="report", prefix="W"))
    two = await statements(small, arming(2, clock))
    eight = await statements(large, arming(8, clock))
    # A count is the run's new clocks and one read (the tickets wait for the end of the run);
    # the third complaint opens the case, and the later ones are not counted again.
    assert len(eight) - len(two) <= 3, eight


def _shapes(statements: list[str], *kinds: str) -> list[str]:
    """The statements' first words, those starting with one of `kinds` (all without)."""
    return sorted(
        " ".join(s.split()[:4]) for s in statements if not kinds or s.lstrip().startswith(kinds)
    )


def _rows(rows: Any, *skip: str) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in vars(r).items() if not k.startswith("_") and k not in skip} for r in rows
    ]


async def _state(app: FastAPI) -> dict[str, Any]:
    runtime = app.state.runtimes["sla"]
    async with runtime.sessionmaker() as session:

        async def of(model: Any, order: Any, *skip: str) -> list[dict[str, Any]]:
            return _rows(await session.scalars(select(model).order_by(*order)), *skip)

        events = [
            (e.type, e.ticket_id, e.occurred_at, {**e.payload, "case_id": None})
            for e in await emitted(app)
        ]
        return {
            "tickets": await of(SlaTicket, [SlaTicket.id]),
            "clocks": await of(DeadlineClock, [DeadlineClock.id]),
            "timers": await of(Timer, [Timer.id]),
            "history": await of(ClockHistory, [ClockHistory.id]),
            "cases": await of(
                SupervisionCase, [SupervisionCase.opened_at, SupervisionCase.reason], "id"
            ),
            "events": events,
        }


async def test_a_batch_leaves_what_the_same_events_one_at_a_time_leave(
    two_slas: tuple[FastAPI, FastAPI], clock: FrozenClock
) -> None:
    batched, single = two_slas
    events = arming(5, clock) + redispatch(clock)
    await batched.state.runtimes["sla"].deliver_batch(events)
    await feed(single, *events)
    state = await _state(batched)
    assert state == await _state(single)
    # What the comparison covers: a cluster, repeated complaints, a re-dispatch.
    assert {c["reason"] for c in state["cases"]} == {"cluster", "unit_complaints", "redispatched"}
    assert [h["what"] for h in state["history"] if h["clock_id"] == "KA0L2"] == [
        "started",
        "redispatched",
    ]
    assert json.loads(state["cases"][0]["related"]) == ["T000"]
