"""analytics applies a consumer batch as a whole (analytics.consumer): the statements per batch
do not grow with its events, the figures equal those of one event at a time (and a rebuild's),
and a failing event in the middle of a batch is dead-lettered while the others apply once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, func, select

from analytics import calendar, consumer, directory
from analytics.facts import History
from analytics.models import Area, Calendar, DailyAggregate, StoredEvent, TicketFact
from analytics.rebuild import rebuild
from shared.bus import RetryPolicy, apply_batch
from shared.events import Envelope, Event, Payload
from tests.analytics.streams import (
    at,
    calendar_changed,
    deliver,
    demo_directory,
    handled_ticket,
    unit_changed,
)
from tests.analytics.test_calendar import handling_days, ticket
from tests.analytics.test_metrics import november
from tests.analytics.test_rebuild import interleaved, more, snapshot, wipe
from tests.support import delivered_statements

UNITS = ["U-BJ0101", "U-BJ0102", "U-BJ0201"]


def tickets(prefix: str, n: int) -> list[Envelope]:
    """n whole tickets (nine events each), interleaved as several producers would publish."""
    events: list[Envelope] = []
    for i in range(n):
        events += handled_ticket(f"{prefix}{i}", UNITS[i % 3], at(11, 2 + i % 20, 9))
    return interleaved(events, seed=n)


async def statements_for(app: FastAPI, batch: Sequence[Envelope]) -> list[str]:
    return await delivered_statements(app.state.runtimes["analytics"], batch)


async def test_a_batch_costs_the_same_statements_for_three_tickets_or_thirty(
    app: FastAPI,
) -> None:
    # The first batch learns the units' names from their dispatches, the second reloads the
    # cached directory (shared.stamped); later ones read neither.
    await statements_for(app, tickets("W", 3))
    await statements_for(app, tickets("X", 3))
    few = await statements_for(app, tickets("F", 3))
    many = await statements_for(app, tickets("M", 30))
    assert len(many) == len(few), (few, many)  # 270 events cost what 27 did
    # The inbox claim; the events kept; the tickets and assignments read and upserted; the
    # daily and monthly deltas; the calendar's and the directory's stamps (shared.stamped).
    assert len(few) <= 10, few


def stream() -> list[Envelope]:
    """Tickets of two months, a calendar override and a renamed unit among them, interleaved
    across tickets and with some events delivered twice."""
    events = [*november(), *more()]
    middle = len(events) // 2
    events[middle:middle] = [
        calendar_changed(at(11, 20, 9), overrides={date(2026, 11, 24): False}),
        unit_changed("U-BJ0102", "江北区某街道（更名）", "street_office", "BJ0101"),
    ]
    events = interleaved(events, seed=7)
    return [e for i, e in enumerate(events) for _ in range(1 + (i % 5 == 0))]


async def restart(app: FastAPI) -> None:
    """Back to the directory alone: no facts, aggregates, events, calendar or claims."""
    await wipe(app)
    async with app.state.runtimes["analytics"].sessionmaker() as session, session.begin():
        await session.execute(delete(Calendar))
        await session.execute(delete(Area))
        # The bulk deletes bypass the flush that marks the cached copies changed.
        await directory.changed(session)
        await calendar.changed(session)
    await deliver(app, demo_directory())


def batches(events: Sequence[Envelope]) -> list[Sequence[Envelope]]:
    """Batches of uneven sizes, one event up to most of the stream."""
    out: list[Sequence[Envelope]] = []
    sizes = [1, 2, 3, 5, 8, 13, 40, 400]
    start = 0
    for i in range(len(events)):
        if start >= len(events):
            break
        size = sizes[i % len(sizes)]
        out.append(events[start : start + size])
        start += size
    return out


async def test_batches_give_the_numbers_of_one_event_at_a_time_and_of_a_rebuild(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    events = stream()
    await deliver(app, events)
    one_at_a_time = await snapshot(app, client)

    await restart(app)
    runtime = app.state.runtimes["analytics"]
    for batch in batches(events):
        await runtime.deliver_batch(batch)
    assert await snapshot(app, client) == one_at_a_time

    await rebuild(runtime.sessionmaker)
    assert await snapshot(app, client) == one_at_a_time


async def test_a_calendar_change_mid_batch_counts_the_handling_times_after_it(
    app: FastAPI,
) -> None:
    # As in test_calendar, but in one batch: the override is learned between the two tickets.
    override = calendar_changed(at(11, 26, 9), overrides={date(2026, 11, 24): False})
    runtime = app.state.runtimes["analytics"]
    await runtime.deliver_batch([*ticket("BEFORE"), override, *ticket("AFTER")])
    assert await handling_days(app) == {"BEFORE": 2.0, "AFTER": 1.0}


async def test_a_failing_event_mid_batch_is_dead_lettered_and_the_others_apply_once(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = tickets("G", 4)
    poison = handled_ticket("POISON", UNITS[0], at(11, 3, 9))[1]  # its dispatch
    batch = [*good[:15], poison, *good[15:]]

    def fold(h: History, event: Event[Payload]) -> History:
        if event.ticket_id == "POISON":
            raise ValueError("poison event")
        return real_fold(h, event)

    real_fold = consumer.fold
    monkeypatch.setattr(consumer, "fold", fold)
    runtime = app.state.runtimes["analytics"]
    failed = await apply_batch(
        runtime.deliver_batch,
        list(enumerate(batch)),
        RetryPolicy(max_attempts=2, backoff_seconds=0.01),
        "analytics",
    )
    assert [(i, str(error)) for i, error in failed] == [(15, "poison event")]

    async with runtime.sessionmaker() as session:
        kept = (await session.scalars(select(StoredEvent.event_id))).all()
        facts = (await session.scalars(select(TicketFact.ticket_id))).all()
        received = await session.scalar(select(func.sum(DailyAggregate.__table__.c.received)))
    ids = [str(e.event_id) for e in batch]
    assert sorted(e for e in kept if e in ids) == sorted(ids[:15] + ids[16:])  # once each
    assert sorted(facts) == [f"G{i}" for i in range(4)]
    assert received == 4  # each good ticket counted once
