"""`python -m services analytics rebuild`: rebuild the read model from analytics' own copy of the
events it consumed (`analytics_events`).

The facts, aggregates, directory and calendar are deleted and rebuilt. First the reference
events (routing's directory, sla's calendar) are read in arrival order; then every ticket's
events are folded again, ticket by ticket in arrival order, each ticket's handling time counted
on the calendar in force at its last event (as the incremental path counted it). The daily
aggregates are the sum of the final facts' contributions and the monthly roll-up is their
`analytics.rollup.rollup`, as on the incremental path. Because the incremental path stores
exactly `contributions(after) − contributions(before)` per event (a run's, per ticket, sum to
the same: analytics.consumer), both give the same numbers (tests/analytics checks it). A unit
is what its directory events and dispatches, merged in arrival order, make of it. Runs in one
transaction: readers see the old model or the new one. Stop the analytics consumer while it
runs.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from sqlalchemy import delete, func, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from analytics import aggregates, calendar, directory
from analytics.config import settings
from analytics.facts import (
    ASSIGNMENT_FIELDS,
    TICKET_FIELDS,
    History,
    Key,
    TicketState,
    contributions,
    derive,
    fold,
)
from analytics.models import (
    Area,
    AssignmentFact,
    Calendar,
    DailyAggregate,
    MonthlyAggregate,
    StoredEvent,
    TicketFact,
    Unit,
)
from analytics.rates import Tally
from analytics.service import LEARNED_TYPES, exclusions
from shared.calendar import WorkingCalendar
from shared.events import Envelope, Event
from shared.events.routing import AreaChanged, TicketDispatched, UnitChanged
from shared.events.sla import CalendarChanged

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Rebuilt:
    events: int
    tickets: int
    seconds: float


def progress_bar(stream: TextIO | None = None) -> Progress:
    """A text progress bar on stderr: `rebuild [######----]  60% 6000/10000 events`."""
    out = stream or sys.stderr

    def show(done: int, total: int) -> None:
        width = 30
        share = done / total if total else 1.0
        bar = "#" * int(width * share) + "-" * (width - int(width * share))
        end = "\n" if done >= total else ""
        print(f"\rrebuild [{bar}] {share:4.0%} {done}/{total} events", end=end, file=out)
        out.flush()

    return show


@dataclass
class Reference:
    """The directory and calendar events, in arrival order (few beside the ticket events)."""

    events: int = 0
    calendars: list[tuple[int, WorkingCalendar]] = field(default_factory=list)
    calendar_body: str | None = None  # the latest calendar event, as analytics stores it
    areas: dict[str, directory.AreaEntry] = field(default_factory=dict)
    unit_changes: dict[str, list[tuple[int, UnitChanged]]] = field(default_factory=dict)

    def calendar_at(self, seq: int) -> WorkingCalendar:
        """The calendar in force when the event `seq` arrived: the latest one before it."""
        i = bisect.bisect_left(self.calendars, seq, key=lambda c: c[0])
        return self.calendars[i - 1][1] if i else calendar.DEFAULT


async def _reference(session: AsyncSession) -> Reference:
    ref = Reference()
    rows = await session.execute(
        select(StoredEvent.seq, StoredEvent.body)
        .where(StoredEvent.type.in_(LEARNED_TYPES))
        .order_by(StoredEvent.seq)
    )
    for seq, body in rows:
        ref.events += 1
        match Envelope.model_validate_json(body).data():
            case AreaChanged() as area:
                ref.areas[area.code] = directory.area_after(area)
            case UnitChanged() as unit:
                ref.unit_changes.setdefault(unit.unit_id, []).append((seq, unit))
            case CalendarChanged() as change:
                ref.calendars.append((seq, calendar.calendar_of(change)))
                ref.calendar_body = body
    return ref


def _units(
    ref: Reference, dispatches: dict[str, list[tuple[int, TicketDispatched]]]
) -> dict[str, directory.UnitEntry]:
    """Each unit's directory changes and dispatches applied in arrival order. Of the
    dispatches only the latest, and the latest that states a class, can still show."""
    out: dict[str, directory.UnitEntry] = {}
    for unit_id in sorted(ref.unit_changes.keys() | dispatches.keys()):
        steps: Sequence[tuple[int, UnitChanged | TicketDispatched]] = sorted(
            [*ref.unit_changes.get(unit_id, []), *dispatches.get(unit_id, [])],
            key=lambda step: step[0],
        )
        entry: directory.UnitEntry | None = None
        for _, event in steps:
            entry = directory.unit_after(entry, event)
        assert entry is not None
        out[unit_id] = entry
    return out


async def _flush(session: AsyncSession, tickets: list[History]) -> None:
    if not tickets:
        return
    await session.execute(
        insert(TicketFact), [{n: getattr(h.ticket, n) for n in TICKET_FIELDS} for h in tickets]
    )
    rows = [
        {n: getattr(a, n) for n in ASSIGNMENT_FIELDS}
        for h in tickets
        for a in h.assignments.values()
    ]
    if rows:
        await session.execute(insert(AssignmentFact), rows)
    tickets.clear()


async def rebuild(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    progress: Progress | None = None,
    batch_size: int = 5000,
) -> Rebuilt:
    started = time.perf_counter()
    rules = exclusions()
    async with sessionmaker() as session, session.begin():
        total = int(await session.scalar(select(func.count()).select_from(StoredEvent)) or 0)
        for model in (
            MonthlyAggregate,
            DailyAggregate,
            AssignmentFact,
            TicketFact,
            Unit,
            Area,
            Calendar,
        ):
            await session.execute(delete(model))
        ref = await _reference(session)
        done = ref.events
        sums: dict[Key, Tally] = {}
        # unit → its latest dispatch, and its latest dispatch that states a class (by arrival)
        dispatches: dict[str, list[tuple[int, TicketDispatched]]] = {}
        pending: list[History] = []
        tickets = 0
        current: History | None = None
        current_seq = -1
        last: tuple[str, int] = ("", -1)
        reported: tuple[int, int] | None = None

        def finish(h: History, seq: int) -> None:
            final = derive(h, rules, ref.calendar_at(seq))
            pending.append(final)
            for key, tally in contributions(final).items():
                sums[key] = sums.get(key, Tally()) + tally

        def dispatched(seq: int, dispatch: TicketDispatched) -> None:
            steps = [*dispatches.get(dispatch.unit_id, []), (seq, dispatch)]
            newest = max(steps, key=lambda k: k[0])
            classed = max(
                (k for k in steps if k[1].unit_class is not None),
                key=lambda k: k[0],
                default=None,
            )
            kept = [newest] if classed in (None, newest) else [classed, newest]
            dispatches[dispatch.unit_id] = kept

        while True:
            page = (
                await session.execute(
                    select(StoredEvent.seq, StoredEvent.ticket_id, StoredEvent.body)
                    .where(tuple_(StoredEvent.ticket_id, StoredEvent.seq) > tuple_(*last))
                    .where(StoredEvent.type.not_in(LEARNED_TYPES))
                    .order_by(StoredEvent.ticket_id, StoredEvent.seq)
                    .limit(batch_size)
                )
            ).all()
            if not page:
                break
            for seq, ticket_id, body in page:
                event = Event.of(Envelope.model_validate_json(body))
                if current is None or current.ticket.ticket_id != ticket_id:
                    if current is not None:
                        finish(current, current_seq)
                        tickets += 1
                    current = History(TicketState(ticket_id))
                current = fold(current, event)
                current_seq = seq
                if isinstance(event.data, TicketDispatched):
                    dispatched(seq, event.data)
                done += 1
            last = (page[-1].ticket_id, page[-1].seq)
            await _flush(session, pending)
            if progress:
                progress(done, total)
                reported = (done, total)
        if current is not None:
            finish(current, current_seq)
            tickets += 1
        await _flush(session, pending)
        await aggregates.add(session, {k: t for k, t in sums.items() if not t.is_zero()})
        for code, area in sorted(ref.areas.items()):
            session.add(Area(code=code, **vars(area)))
        for unit_id, unit in _units(ref, dispatches).items():
            session.add(Unit(unit_id=unit_id, **vars(unit)))
        if ref.calendar_body is not None:
            session.add(Calendar(name=calendar.ROW, body=ref.calendar_body))
        # The bulk deletes bypass the flush that marks cached data changed.
        await directory.changed(session)
        await calendar.changed(session)
        if progress and reported != (done, total):
            progress(done, total)
    return Rebuilt(events=done, tickets=tickets, seconds=time.perf_counter() - started)


async def _main(batch_size: int) -> Rebuilt:
    from shared import db, migrations
    from shared.settings import platform_settings

    engine = db.create_engine(settings().resolved_database_url("analytics", platform_settings()))
    try:
        await migrations.upgrade(engine, "analytics")
        return await rebuild(
            async_sessionmaker(engine, expire_on_commit=False),
            progress=progress_bar(),
            batch_size=batch_size,
        )
    finally:
        await engine.dispose()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m services analytics rebuild",
        description="Rebuild analytics' facts and aggregates by replaying its stored events.",
    )
    parser.add_argument("--batch-size", type=int, default=5000, help="events read per page")
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    result = asyncio.run(_main(args.batch_size))
    print(
        f"analytics: rebuilt {result.tickets} tickets from {result.events} events "
        f"in {result.seconds:.1f}s"
    )
