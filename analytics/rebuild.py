"""`python -m services analytics rebuild`: rebuild the read model from analytics' own copy of the
events it consumed (`analytics_events`).

The facts and aggregates are deleted and every ticket's events are folded again, ticket by
ticket in arrival order; the daily aggregates are the sum of the final facts' contributions and
the monthly roll-up is their `analytics.rollup.rollup`, as on the incremental path. Because
the incremental path stores exactly `contributions(after) − contributions(before)` per event,
both give the same numbers (tests/analytics checks it). Runs in one transaction: readers see
the old model or the new one. Stop the analytics consumer while it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from sqlalchemy import delete, func, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from analytics import aggregates, domain
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
    AssignmentFact,
    DailyAggregate,
    MonthlyAggregate,
    StoredEvent,
    TicketFact,
    Unit,
)
from analytics.rates import Tally
from analytics.service import directory, exclusions
from shared.events import Envelope

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
        for model in (MonthlyAggregate, DailyAggregate, AssignmentFact, TicketFact, Unit):
            await session.execute(delete(model))
        sums: dict[Key, Tally] = {}
        names: dict[str, tuple[int, str | None]] = {}  # unit → (seq, name) of its last dispatch
        pending: list[History] = []
        done = tickets = 0
        current: History | None = None
        last: tuple[str, int] = ("", -1)

        def finish(h: History) -> None:
            final = derive(h, rules)
            pending.append(final)
            for key, tally in contributions(final).items():
                sums[key] = sums.get(key, Tally()) + tally

        while True:
            page = (
                await session.execute(
                    select(StoredEvent.seq, StoredEvent.ticket_id, StoredEvent.body)
                    .where(tuple_(StoredEvent.ticket_id, StoredEvent.seq) > tuple_(*last))
                    .order_by(StoredEvent.ticket_id, StoredEvent.seq)
                    .limit(batch_size)
                )
            ).all()
            if not page:
                break
            for seq, ticket_id, body in page:
                event = Envelope.model_validate_json(body)
                if current is None or current.ticket.ticket_id != ticket_id:
                    if current is not None:
                        finish(current)
                        tickets += 1
                    current = History(TicketState(ticket_id))
                current = fold(current, event)
                if event.type == "ticket.dispatched":
                    unit = event.payload["unit_id"]
                    if seq > names.get(unit, (-1, None))[0]:
                        names[unit] = (seq, event.payload.get("unit_name"))
                done += 1
            last = (page[-1].ticket_id, page[-1].seq)
            await _flush(session, pending)
            if progress:
                progress(done, total)
        if current is not None:
            finish(current)
            tickets += 1
        await _flush(session, pending)
        await aggregates.add(session, {k: t for k, t in sums.items() if not t.is_zero()})
        d = directory()
        for unit, (_, name) in sorted(names.items()):
            session.add(Unit(unit_id=unit, name=name, unit_class=domain.unit_class(unit, name, d)))
        if progress and total == 0:
            progress(0, 0)
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
