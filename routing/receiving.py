"""The first dispatch (派单) of received tickets (受理), a run of `ticket.received` at a time
(`TakesRuns`): the events the routing consumer gets one of per ticket. Event by event this cost
some seven statements a ticket (a ticket read, its insert and update, a unit read, an
assignment and an event per unit); on SQLite each is a round trip of the one event loop. Here
the run's tickets are read once, the units come from the cached directory, and the tickets,
assignments and events are written at the end, one statement per table, in log order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from routing.dispatching import Grounds, assigned_all, decide
from routing.domain import TicketStatus
from routing.models import Assignment, RoutedTicket, outbox
from routing.reference import DirectoryView, directory_view
from shared import tracing
from shared.events import Envelope, Event
from shared.events.intake import TicketReceived
from shared.events.routing import AssignmentRole
from shared.runtime import TakesRuns

_TICKETS = cast(Table, RoutedTicket.__table__)
_ASSIGNMENTS = cast(Table, Assignment.__table__)


@dataclass
class _Run:
    """What a run writes, in log order: ticket rows, assignment rows, outbox events."""

    tickets: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    events: list[Envelope] = field(default_factory=list)

    async def write(self, session: AsyncSession) -> None:
        # Tickets before the assignments that refer to them.
        if self.tickets:
            await session.execute(insert(_TICKETS), self.tickets)
        if self.assignments:
            await session.execute(insert(_ASSIGNMENTS), self.assignments)
        await outbox.emit_all(session, self.events)


async def receive(session: AsyncSession, events: Sequence[Event[TicketReceived]]) -> None:
    """On a run of `ticket.received`: each new ticket gets its lead and assisting units, or
    waits in the dispatcher's queue, as it would one event at a time."""
    # Answered on the spot at intake (在线解答): never dispatched.
    wanted = [e for e in events if not e.data.answered]
    if not wanted:
        return
    ids = {e.ticket_id for e in wanted}
    known = set(await session.scalars(select(_TICKETS.c.id).where(_TICKETS.c.id.in_(ids))))
    view = await directory_view(session)  # one read of its stamp for the whole run
    run = _Run()
    for event in wanted:
        if event.ticket_id in known:
            continue  # a repeated receipt
        known.add(event.ticket_id)
        # Each ticket's events continue its own trace, not the run's first.
        with tracing.continued(f"routing: {event.type}", event.envelope.trace_context):
            _dispatch_received(run, view, event)
    await run.write(session)


RECEIVE = TakesRuns(receive)


def _dispatch_received(run: _Run, view: DirectoryView, event: Event[TicketReceived]) -> None:
    """One receipt: the ticket, and its assignments and `ticket.dispatched` if a rule (or
    首接负责) places it."""
    data = event.data
    ticket = RoutedTicket(  # never added to the session: written as a row by the run
        id=event.ticket_id,
        category=data.category,
        kind=data.kind,
        urgency=data.urgency,
        area_code=data.area_code,
        title=data.title,
        description=data.description,
        address=data.address,
        received_at=data.received_at,
        dispatch_count=0,
        return_count=0,
        round=1,
        status=TicketStatus.QUEUED,
        queued_reason=None,
        key_supervision_at=None,
    )
    at = event.occurred_at
    plan, decision, why = decide(view, ticket, at)
    if plan is None:
        ticket.queued_reason = f"{why}: waiting for a dispatcher"
    else:
        ticket.dispatch_count = 1
        ticket.status = TicketStatus.DISPATCHED
        rule = decision.rule if decision else None
        units: list[tuple[str, AssignmentRole]] = [
            (plan.lead_unit_id, "lead"),
            *((u, "assist") for u in plan.assist_unit_ids),
        ]
        for row, announced in assigned_all(
            ticket,
            units,
            view,
            Grounds(
                mode=plan.mode,
                basis="catalogue" if rule else "first_receiving",
                rule_id=rule.id if rule else None,
                catalogue_version=rule.version if rule else None,
                reason=plan.reason,
                at=at,
            ),
        ):
            run.assignments.append(row)
            run.events.append(
                outbox.envelope(
                    announced,
                    ticket_id=event.ticket_id,
                    occurred_at=at,
                    correlation_id=event.correlation_id,
                )
            )
    run.tickets.append({c.key: getattr(ticket, c.key) for c in _TICKETS.columns})
