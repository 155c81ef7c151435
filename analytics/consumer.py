"""analytics' consumer (考评的事件消费): a run of events, applied as a whole.

The runtime hands a run of consecutive events (shared.runtime.TakesRuns; in practice the whole
batch) in log order. Every event is kept for rebuilds and the audit trail (one insert). The
ticket events between two reference events (routing's directory, sla's calendar) are a
segment: its tickets' facts are read once, each event is folded in order into the run's copy
(so a later event sees what an earlier one changed, exactly as when each was applied alone),
and what changed is written once — fact rows, aggregate deltas, the units the dispatches name.

The aggregates get Σ over the run's events of `contributions(after) − contributions(before)`:
per ticket that sum telescopes to `contributions(last) − contributions(stored)`, so one delta
per ticket gives the very counts the event-by-event deltas gave. A reference event is applied
alone, in its place: the calendar it brings counts the handling times of the events after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from analytics import aggregates, calendar, directory, factrows
from analytics.facts import PROJECTED, Key, contributions, delta, derive, fold
from analytics.models import StoredEvent
from analytics.rates import Tally
from analytics.service import LEARNED, exclusions
from shared.events import Event, Payload
from shared.events.routing import AreaChanged, TicketDispatched, UnitChanged
from shared.events.sla import CalendarChanged

EVENTS = cast(Table, StoredEvent.__table__)


async def store(session: AsyncSession, events: Sequence[Event[Payload]]) -> None:
    """Keep the events for rebuilds and the audit trail (analytics_events), in the handler's
    transaction: one statement, rows in log order (their `seq` is the arrival order)."""
    if not events:
        return
    await session.execute(
        insert(EVENTS),
        [
            {
                "event_id": str(e.event_id),
                "type": e.type,
                "ticket_id": e.ticket_id,
                "occurred_at": e.occurred_at,
                "body": e.envelope.model_dump_json(),
            }
            for e in events
        ],
    )


async def project(session: AsyncSession, events: Sequence[Event[Payload]]) -> None:
    """The handler for every event analytics receives (inside the inbox transaction): keep
    the run, then apply its segments and reference events in order; an event folded into no
    figure is only kept, for the audit trail."""
    await store(session, events)
    segment: list[Event[Payload]] = []
    for event in events:
        if isinstance(event.data, LEARNED):
            await apply(session, segment)
            segment = []
            await learn(session, event)
        elif isinstance(event.data, PROJECTED):
            segment.append(event)
    await apply(session, segment)


async def apply(session: AsyncSession, events: Sequence[Event[Payload]]) -> None:
    """Fold a segment of ticket events into their tickets' facts, add the change to the
    aggregates and learn the units the dispatches name."""
    if not events:
        return
    stored = await factrows.load(session, [e.ticket_id for e in events])
    rules, in_force = exclusions(), await calendar.current(session)
    after = dict(stored.histories)
    for event in events:
        after[event.ticket_id] = derive(fold(after[event.ticket_id], event), rules, in_force)
    await factrows.save(session, stored, after)
    deltas: dict[Key, Tally] = {}
    for ticket_id, h in after.items():
        before = stored.histories[ticket_id]
        for key, tally in delta(contributions(before), contributions(h)).items():
            deltas[key] = deltas.get(key, Tally()) + tally
    await aggregates.add(session, {k: t for k, t in deltas.items() if not t.is_zero()})
    await directory.learn_dispatches(
        session, [e.data for e in events if isinstance(e.data, TicketDispatched)]
    )


async def learn(session: AsyncSession, event: Event[Payload]) -> None:
    """Keep what a directory or calendar event says (routing's areas and units, sla's
    calendar): reference data, not about one ticket."""
    match event.data:
        case AreaChanged() as area:
            await directory.learn_area(session, area)
        case UnitChanged() as unit:
            await directory.learn_unit(session, unit.unit_id, unit)
        case CalendarChanged():
            await calendar.learn(session, event.envelope)
        case other:
            raise TypeError(f"analytics learns nothing from {other.event_type}")
    # Written now, so the next segment reads the new stamp (shared.stamped) and with it the
    # calendar or directory this event brought.
    await session.flush()
