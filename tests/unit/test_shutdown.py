"""Stopping the bus and the outbox relay right after a wake-up returns, every time.

On Python 3.11 `asyncio.wait_for(event.wait(), ...)` swallows a cancellation that lands in the
same loop turn as the event (CPython gh-86296); a consumer loop built on it never stopped and
`make test` hung in a fixture's teardown. These tests stop right after a publish, many times.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus import EmbeddedBus, RetryPolicy, wait_for_wakeup
from shared.events import Envelope, new_event
from shared.events.callback import TicketClosed
from tests.unit.test_outbox_inbox import AT, RecordingBus, emit, relay
from tests.unit.test_outbox_inbox import sessions as sessions  # the fixture


async def test_a_wakeup_in_the_same_turn_does_not_swallow_the_cancellation() -> None:
    wake = asyncio.Event()
    waiter = asyncio.create_task(wait_for_wakeup(wake, 60))
    await asyncio.sleep(0)
    wake.set()
    waiter.cancel()
    done, _ = await asyncio.wait([waiter], timeout=5)
    assert done, "the waiter ignored its cancellation"
    assert waiter.cancelled()


async def test_the_embedded_bus_stops_right_after_a_publish(tmp_path: Path) -> None:
    received: list[Envelope] = []

    async def deliver(envelopes: Sequence[Envelope]) -> None:
        received.extend(envelopes)

    for round_ in range(30):
        bus = EmbeddedBus(tmp_path / f"bus{round_}.db", RetryPolicy(), poll_seconds=5)
        bus.subscribe("a", deliver)
        bus.subscribe("b", deliver)
        await bus.start()
        await asyncio.sleep(0.01)
        await bus.publish(
            [
                new_event(
                    TicketClosed(reason="x"),
                    ticket_id=f"T{round_}",
                    producer="test",
                    occurred_at=AT,
                )
            ]
        )
        # Stop in the same turn as the wake-up: the consumers must still end, promptly.
        await asyncio.wait_for(bus.stop(), timeout=5)
        assert not any(not t.done() for t in asyncio.all_tasks() if t.get_name().startswith("bus-"))


async def test_the_relay_stops_right_after_a_nudge(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    bus = RecordingBus()
    for round_ in range(30):
        r = relay(sessions, bus)
        await r.start()
        await asyncio.sleep(0.01)
        await emit(sessions, f"T{round_}")
        r.nudge()
        await asyncio.wait_for(r.stop(), timeout=5)
    # The final drain published whatever the loop had not.
    assert {e.ticket_id for e in bus.published} == {f"T{i}" for i in range(30)}
