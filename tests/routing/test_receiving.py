"""routing dispatches received tickets a run at a time (routing/receiving.py, 受理派单): a batch
costs the same statements for two tickets as for eight, and leaves the same tickets,
assignments and `ticket.dispatched` events, in the same order, as the same events applied one
at a time; a failing receipt rolls its batch back, and applied alone the others go through."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from routing import receiving
from routing.models import Assignment, RoutedTicket, outbox
from services import demo
from services.bootstrap import build_app
from shared.clock import FrozenClock
from shared.events import Envelope, new_event
from shared.events.intake import TicketReceived
from shared.runtime import ServiceRuntime
from shared.settings import PlatformSettings
from tests.support import delivered_statements

# (category, area, title): each way a receipt ends, in the demo city's catalogue.
CASES = [
    ("城市管理/市容环境/占道经营", "BJ010101", "早市摊贩占道经营"),  # R005: lead and assist
    ("教育", "BJ030101", "学校门口拥堵"),  # R018: a lead alone
    ("城乡建设/施工扰民", "BJ020101", "工地夜间施工噪音"),  # R016 by its keywords
    ("其他", "BJ010201", "无对应职责"),  # no rule: 首接负责, the street office
    ("其他", None, "地址不明"),  # no rule, no area: the dispatcher's queue
]


def received(ticket_id: str, at: datetime, case: int, *, answered: bool = False) -> Envelope:
    category, area, title = CASES[case % len(CASES)]
    payload = TicketReceived(
        channel="phone",
        kind="complaint",
        category=category,
        urgency="ordinary",
        title=title,
        description=f"{title}，请尽快处理。",
        area_code=area,
        address=None,
        citizen_ref="c-1",
        anonymous=False,
        received_at=at,
        answered=answered,
    )
    return new_event(payload, ticket_id=ticket_id, producer="intake", occurred_at=at)


def receipts(n: int, clock: FrozenClock, prefix: str = "T") -> list[Envelope]:
    at = clock.now()
    return [received(f"{prefix}{i:03d}", at + timedelta(seconds=i), i) for i in range(n)]


@pytest.fixture
async def two_routings(
    platform: PlatformSettings, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[tuple[ServiceRuntime, ServiceRuntime]]:
    """Two routing services with the demo directory on databases of their own: one fed
    batches, one fed event by event."""
    alone = platform.model_copy(update={"load_demo": False})
    other = alone.model_copy(update={"data_dir": tmp_path / "other"})
    batched = build_app(["routing"], platform=alone, clock=clock)
    single = build_app(["routing"], platform=other, clock=clock)
    async with batched.router.lifespan_context(batched), single.router.lifespan_context(single):
        for app in (batched, single):
            await demo.load_directory(app.state.runtimes)
        yield batched.state.runtimes["routing"], single.state.runtimes["routing"]


async def statements(runtime: ServiceRuntime, batch: list[Envelope]) -> list[str]:
    """Each statement the batch costs, by its first three words."""
    return [" ".join(s.split()[:3]) for s in await delivered_statements(runtime, batch)]


async def test_a_batch_of_ten_tickets_costs_what_a_batch_of_two_costs(
    two_routings: tuple[ServiceRuntime, ServiceRuntime], clock: FrozenClock
) -> None:
    runtime, _ = two_routings
    await statements(runtime, receipts(1, clock, "W"))  # warm the directory's cache
    two = await statements(runtime, receipts(2, clock, "A"))
    ten = await statements(runtime, receipts(10, clock, "B"))
    # The inbox claim, the directory's stamp, one read of the run's tickets, one insert each
    # of its tickets, assignments and events: however many tickets.
    assert ten == two, ten
    assert len(ten) <= 6, ten
    async with runtime.sessionmaker() as session:
        stored = await session.scalars(select(RoutedTicket.id).where(RoutedTicket.id.like("B%")))
        assert len(stored.all()) == 10


def _rows(rows: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in rows]


async def _state(runtime: ServiceRuntime) -> dict[str, Any]:
    """Tickets, assignments and their events as stored, each assignment id replaced by the
    place of the `ticket.dispatched` announcing it (ids are random)."""
    async with runtime.sessionmaker() as session:
        tickets = _rows(await session.execute(select(RoutedTicket.__table__).order_by("id")))
        assignments = _rows(await session.execute(select(Assignment.__table__)))
        bodies = await session.scalars(select(outbox.table.c.body).order_by(outbox.table.c.id))
    # The tickets' events, not the directory's the demo load announced.
    ids = {t["id"] for t in tickets}
    events = [e for e in map(Envelope.model_validate_json, bodies) if e.ticket_id in ids]
    place = {
        e.payload["assignment_id"]: i for i, e in enumerate(events) if "assignment_id" in e.payload
    }
    for a in assignments:
        a["id"] = place[a["id"]]
    return {
        "tickets": tickets,
        "assignments": sorted(assignments, key=lambda a: a["id"]),
        "events": [
            (
                e.type,
                e.ticket_id,
                e.occurred_at,
                e.correlation_id,
                {**e.payload, "assignment_id": place.get(e.payload.get("assignment_id"))},
            )
            for e in events
        ],
    }


def with_repeats(clock: FrozenClock) -> list[Envelope]:
    """Every case twice over, an answered consultation (在线解答) and a repeated receipt."""
    events = receipts(2 * len(CASES), clock)
    at = clock.now() + timedelta(minutes=1)
    events.insert(3, received("T-ANSWERED", at, 0, answered=True))
    events.append(received("T001", at, 1))  # T001 again, as another event: not dispatched twice
    return events


async def test_a_batch_leaves_what_the_same_events_one_at_a_time_leave(
    two_routings: tuple[ServiceRuntime, ServiceRuntime], clock: FrozenClock
) -> None:
    batched, single = two_routings
    events = with_repeats(clock)
    await batched.deliver_batch(events)
    for envelope in events:
        await single.deliver(envelope)
    state = await _state(batched)
    assert state == await _state(single)
    # What the comparison covers: both bases, an assisting unit, the queue, the skipped ones.
    assert {(a["basis"], a["role"]) for a in state["assignments"]} == {
        ("catalogue", "lead"),
        ("catalogue", "assist"),
        ("first_receiving", "lead"),
    }
    assert [t["status"] for t in state["tickets"]].count("queued") == 2
    assert len(state["tickets"]) == 2 * len(CASES)
    assert [e[1] for e in state["events"]][:3] == ["T000", "T000", "T001"]


def failing_for(ticket_id: str) -> Callable[..., Any]:
    decide = receiving.decide

    def decide_or_fail(view: Any, ticket: RoutedTicket, at: datetime) -> Any:
        if ticket.id == ticket_id:
            raise RuntimeError(f"poison receipt {ticket_id}")
        return decide(view, ticket, at)

    return decide_or_fail


async def test_a_failing_receipt_fails_its_batch_and_alone_leaves_the_others(
    two_routings: tuple[ServiceRuntime, ServiceRuntime],
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What the runtime does with a failing batch (tests/unit/test_batch_delivery.py): it rolls
    # back, then applies the events one at a time and dead-letters the one that fails.
    batched, single = two_routings
    events = receipts(5, clock)
    monkeypatch.setattr(receiving, "decide", failing_for("T002"))
    with pytest.raises(RuntimeError, match="poison"):
        await batched.deliver_batch(events)
    assert (await _state(batched))["tickets"] == []
    for envelope in events:
        if envelope.ticket_id == "T002":
            with pytest.raises(RuntimeError, match="poison"):
                await batched.deliver(envelope)
        else:
            await batched.deliver(envelope)
    monkeypatch.undo()
    for envelope in events:
        if envelope.ticket_id != "T002":
            await single.deliver(envelope)
    assert await _state(batched) == await _state(single)
