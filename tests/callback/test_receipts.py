"""callback notes received tickets (受理) a run at a time (callback/service.py, `note_tickets`):
a batch of receipts costs the same statements for two tickets as for eight, and with the
answers and replies that follow it leaves the same tickets, callbacks and events as the same
events applied one at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from callback.models import CallbackTask, CallbackTicket, outbox
from services.bootstrap import build_app
from shared.clock import FrozenClock
from shared.events import Envelope, new_event
from shared.events.intake import TicketAnswered, TicketReceived
from shared.events.routing import TicketReplied
from shared.runtime import ServiceRuntime
from shared.settings import PlatformSettings
from tests.support import delivered_statements


def received(ticket_id: str, at: datetime, *, anonymous: bool, channel: str) -> Envelope:
    payload = TicketReceived(
        channel=channel,
        kind="complaint",
        category="城市管理/市容环境/占道经营",
        urgency="ordinary",
        title="早市摊贩占道经营",
        description="小区门口早市摊贩占道经营。",
        area_code="BJ010101",
        address=None,
        citizen_ref=None if anonymous else "c-1",
        anonymous=anonymous,
        received_at=at,
    )
    return new_event(payload, ticket_id=ticket_id, producer="intake", occurred_at=at)


def receipts(n: int, clock: FrozenClock, prefix: str = "T") -> list[Envelope]:
    """N receipts, every third anonymous, by phone and by web in turn."""
    at = clock.now()
    return [
        received(
            f"{prefix}{i:03d}",
            at + timedelta(seconds=i),
            anonymous=i % 3 == 2,
            channel=("phone", "web")[i % 2],
        )
        for i in range(n)
    ]


def followed(n: int, clock: FrozenClock) -> list[Envelope]:
    """Receipts, then an on-the-spot answer (在线解答) and replies, some of anonymous citizens
    (excluded from callback), in one batch."""
    at = clock.now() + timedelta(hours=1)
    events = receipts(n, clock)
    events.append(
        new_event(
            TicketAnswered(answer="已答复", answered_by="op-1"),
            ticket_id="T000",
            producer="intake",
            occurred_at=at,
        )
    )
    for i in (1, 2):
        reply = TicketReplied(
            lead_assignment_id=f"A{i}",
            lead_unit_id="U-BJ01-CG",
            outcome="solved",
            explanation="已处理",
        )
        events.append(new_event(reply, ticket_id=f"T{i:03d}", producer="routing", occurred_at=at))
    events += receipts(3, clock, prefix="L")  # receipts after the others: a second run
    return events


@pytest.fixture
async def two_callbacks(
    platform: PlatformSettings, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[tuple[ServiceRuntime, ServiceRuntime]]:
    """Two callback services on databases of their own: one fed batches, one event by event."""
    alone = platform.model_copy(update={"load_demo": False})
    other = alone.model_copy(update={"data_dir": tmp_path / "other"})
    batched = build_app(["callback"], platform=alone, clock=clock)
    single = build_app(["callback"], platform=other, clock=clock)
    async with batched.router.lifespan_context(batched), single.router.lifespan_context(single):
        yield batched.state.runtimes["callback"], single.state.runtimes["callback"]


async def statements(runtime: ServiceRuntime, batch: list[Envelope]) -> list[str]:
    """Each statement the batch costs, by its first three words."""
    return [" ".join(s.split()[:3]) for s in await delivered_statements(runtime, batch)]


async def test_a_batch_of_eight_receipts_costs_what_a_batch_of_two_costs(
    two_callbacks: tuple[ServiceRuntime, ServiceRuntime], clock: FrozenClock
) -> None:
    runtime, _ = two_callbacks
    two = await statements(runtime, receipts(2, clock, "A"))
    eight = await statements(runtime, receipts(8, clock, "B"))
    # The inbox claim and one insert of the run's tickets, however many tickets.
    assert eight == two == ["INSERT INTO callback_inbox", "INSERT INTO callback_tickets"]
    async with runtime.sessionmaker() as session:
        stored = await session.scalars(select(CallbackTicket.ticket_id))
        assert len(stored.all()) == 10


async def _state(runtime: ServiceRuntime) -> dict[str, Any]:
    async with runtime.sessionmaker() as session:
        tickets = await session.execute(select(CallbackTicket.__table__).order_by("ticket_id"))
        tasks = await session.execute(select(CallbackTask.__table__).order_by("id"))
        bodies = await session.scalars(select(outbox.table.c.body).order_by(outbox.table.c.id))
    events = [Envelope.model_validate_json(b) for b in bodies]
    return {
        "tickets": [dict(r._mapping) for r in tickets],
        "tasks": [dict(r._mapping) for r in tasks],
        "events": [(e.type, e.ticket_id, e.occurred_at, e.payload) for e in events],
    }


async def test_a_batch_leaves_what_the_same_events_one_at_a_time_leave(
    two_callbacks: tuple[ServiceRuntime, ServiceRuntime], clock: FrozenClock
) -> None:
    batched, single = two_callbacks
    events = followed(6, clock)
    await batched.deliver_batch(events)
    for envelope in events:
        await single.deliver(envelope)
    state = await _state(batched)
    assert state == await _state(single)
    # What the comparison covers: channels, anonymity, callbacks due and excluded.
    assert {(t["channel"], t["anonymous"]) for t in state["tickets"]} == {
        ("phone", False),
        ("web", False),
        ("phone", True),
        ("web", True),
    }
    assert [(t["ticket_id"], t["status"]) for t in state["tasks"]] == [
        ("T000", "due"),
        ("T001", "due"),
        ("T002", "excluded"),
    ]
    assert len(state["tickets"]) == 9
