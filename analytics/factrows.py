"""The fact rows (事实表) as histories: a run's tickets read with one SELECT per table, the
tickets and assignments the run changed written with one upsert per table.

Core statements, not ORM objects: the consumer touches every ticket about twenty times in its
life, and on the embedded platform each statement costs far more in the event loop than in the
database (docs/performance.md). Reading by ticket (`IN`) and writing a run's rows in one
`executemany` keeps the count per run, not per event.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import cast

from sqlalchemy import Insert, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.facts import ASSIGNMENT_FIELDS, TICKET_FIELDS, AssignmentState, History, TicketState
from analytics.models import AssignmentFact, TicketFact
from shared.db import dialect_name, insert_in

TICKETS = cast(Table, TicketFact.__table__)
ASSIGNMENTS = cast(Table, AssignmentFact.__table__)


@dataclass(frozen=True)
class Stored:
    """The histories of a run's tickets as the database holds them, and which rows exist (a
    ticket or assignment with no row is inserted even if an event left it at its defaults,
    as the one-event-at-a-time handler did)."""

    histories: Mapping[str, History]
    ticket_ids: frozenset[str]
    assignment_ids: frozenset[str]


async def load(session: AsyncSession, ticket_ids: Collection[str]) -> Stored:
    """Each ticket's history, a fresh one for a ticket without a row."""
    ids = sorted(set(ticket_ids))
    tickets = {
        row.ticket_id: TicketState(**{n: row._mapping[n] for n in TICKET_FIELDS})
        for row in await session.execute(select(TICKETS).where(TICKETS.c.ticket_id.in_(ids)))
    }
    assignments: dict[str, dict[str, AssignmentState]] = {}
    for row in await session.execute(select(ASSIGNMENTS).where(ASSIGNMENTS.c.ticket_id.in_(ids))):
        a = AssignmentState(**{n: row._mapping[n] for n in ASSIGNMENT_FIELDS})
        assignments.setdefault(a.ticket_id, {})[a.assignment_id] = a
    histories = {t: History(tickets.get(t) or TicketState(t), assignments.get(t, {})) for t in ids}
    return Stored(
        histories,
        frozenset(tickets),
        frozenset(a for by_id in assignments.values() for a in by_id),
    )


async def save(session: AsyncSession, stored: Stored, after: Mapping[str, History]) -> None:
    """Write the tickets and assignments that differ from what is stored, or have no row."""
    tickets: list[TicketState] = []
    assignments: list[AssignmentState] = []
    for ticket_id, h in after.items():
        before = stored.histories[ticket_id]
        if h.ticket != before.ticket or ticket_id not in stored.ticket_ids:
            tickets.append(h.ticket)
        assignments += [
            a
            for a in h.assignments.values()
            if a.assignment_id not in stored.assignment_ids
            or a != before.assignments.get(a.assignment_id)
        ]
    await _write(session, TICKETS, "ticket_id", TICKET_FIELDS, tickets)
    await _write(session, ASSIGNMENTS, "assignment_id", ASSIGNMENT_FIELDS, assignments)


async def _write(
    session: AsyncSession, table: Table, key: str, names: Iterable[str], states: Iterable[object]
) -> None:
    rows = [{n: getattr(s, n) for n in names} for s in states]
    if not rows:
        return
    # In key order, so two writers would lock shared rows in one order.
    rows.sort(key=lambda row: str(row[key]))
    await session.execute(_upsert(dialect_name(session), table, key), rows)


@cache
def _upsert(dialect: str, table: Table, key: str) -> Insert:
    """Insert a row, or replace every column of the row with the same key (compiled once)."""
    statement = insert_in(dialect, table)
    return statement.on_conflict_do_update(
        index_elements=[key],
        set_={c.name: statement.excluded[c.name] for c in table.columns if c.name != key},
    )
