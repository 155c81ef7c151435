"""Deadline clocks (时限) stopped and restarted by lifecycle events: the unit's steps stop
stages, a return, withdrawal, re-open or close stops clocks, a re-open starts the new round's
ticket clock. Receipt and dispatch, which start clocks, come a run at a time (sla/arming.py).
sla/handlers.py maps the event types to these handlers; the rules are sla/domain.py's and
sla/policies.py's."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import Event
from shared.events.callback import TicketClosed, TicketReopened
from shared.events.routing import (
    AssignmentContacted,
    AssignmentReplied,
    AssignmentReturned,
    AssignmentSigned,
    AssignmentWithdrawn,
    TicketReplied,
)
from sla import domain
from sla.clock_rows import add_history, add_timers, ticket_clock
from sla.domain import ClockStatus, TicketStatus, TimerState
from sla.extensions import lapse_pending
from sla.models import DeadlineClock, SlaTicket, Timer
from sla.stored import load_calendar, load_policies
from sla.supervising import resolve_cases, touch_cases

log = logging.getLogger(__name__)


async def _start_ticket_clock(
    session: AsyncSession, ticket: SlaTicket, round_: int, start: datetime
) -> DeadlineClock:
    calendar = await load_calendar(session)
    versions = await load_policies(session)
    clock, planned = ticket_clock(ticket, round_, start, None, calendar, versions)
    session.add(clock)
    await add_timers(session, clock, planned, 0)
    add_history(session, clock, start, "started", f"round {round_}, {clock.policy}")
    await session.flush()
    return clock


async def _stop_timers(
    session: AsyncSession, clock_id: str, at: datetime, stages: Sequence[str] | None = None
) -> None:
    """Stop the armed timers of a clock's stages and record a late finish on fired deadlines.
    Single conditional statements, so a concurrent firer and a stop never both win."""
    armed = update(Timer).where(Timer.clock_id == clock_id, Timer.state == TimerState.ARMED)
    late = update(Timer).where(
        Timer.clock_id == clock_id,
        Timer.state == TimerState.FIRED,
        Timer.kind == "deadline",
        Timer.stopped_at.is_(None),
    )
    if stages is not None:
        armed = armed.where(Timer.stage.in_(stages))
        late = late.where(Timer.stage.in_(stages))
    options = {"synchronize_session": False}
    await session.execute(
        armed.values(state=TimerState.STOPPED, stopped_at=at).execution_options(**options)
    )
    await session.execute(late.values(stopped_at=at).execution_options(**options))


async def stop_clock(
    session: AsyncSession, clock: DeadlineClock, at: datetime, status: ClockStatus
) -> None:
    """Stop every open timer of a clock (returned, re-dispatched, closed); fired stay fired."""
    await _stop_timers(session, clock.id, at)
    clock.status, clock.closed_at = status, at
    add_history(session, clock, at, status)


async def stop_stage(
    session: AsyncSession, event: Event[AssignmentSigned | AssignmentContacted | AssignmentReplied]
) -> None:
    """On the unit's sign / contact / reply: those stages' deadlines are met (or were breached:
    the finish is recorded on the fired deadline)."""
    stages = domain.STAGES_STOPPED_BY[event.type]
    clock = await session.get(DeadlineClock, f"K{event.data.assignment_id}")
    if clock is None:
        log.warning("sla: %s for unknown assignment %s", event.type, event.data.assignment_id)
        return
    at = event.occurred_at
    await _stop_timers(session, clock.id, at, stages)
    add_history(session, clock, at, "stopped", ", ".join(stages))
    if "completion" in stages and clock.status == ClockStatus.OPEN:
        clock.status, clock.closed_at = ClockStatus.DONE, at
    await touch_cases(session, clock.ticket_id, at)


async def on_ticket_replied(session: AsyncSession, event: Event[TicketReplied]) -> None:
    """On `ticket.replied`: the round's ticket clock stops; overdue and re-dispatch cases are
    answered."""
    round_ = event.data.round
    clock = await session.get(DeadlineClock, f"T{event.ticket_id}-R{round_}")
    if clock is not None and clock.status == ClockStatus.OPEN:
        await _stop_timers(session, clock.id, event.occurred_at)
        clock.status, clock.closed_at = ClockStatus.DONE, event.occurred_at
        add_history(session, clock, event.occurred_at, "stopped", "completion (ticket replied)")
    await resolve_cases(
        session, event.ticket_id, event.occurred_at, "ticket replied", ("overdue", "redispatched")
    )


async def on_returned(session: AsyncSession, event: Event[AssignmentReturned]) -> None:
    """On `assignment.returned` (退单): the unit's clock stops; the ticket's keeps running."""
    clock = await session.get(DeadlineClock, f"K{event.data.assignment_id}")
    if clock is not None and clock.status == ClockStatus.OPEN:
        await stop_clock(session, clock, event.occurred_at, ClockStatus.RETURNED)


async def on_withdrawn(session: AsyncSession, event: Event[AssignmentWithdrawn]) -> None:
    """On `assignment.withdrawn` (re-dispatch, forwarding, joint determination, an assisting
    unit timed out): the assignment's clock stops; the ticket's keeps running."""
    clock = await session.get(DeadlineClock, f"K{event.data.assignment_id}")
    if clock is not None and clock.status == ClockStatus.OPEN:
        await stop_clock(session, clock, event.occurred_at, ClockStatus.WITHDRAWN)


async def on_reopened(session: AsyncSession, event: Event[TicketReopened]) -> None:
    """On `ticket.reopened` (重办): a new round and its ticket clock; older rounds' clocks stop."""
    data = event.data
    ticket = await session.get(SlaTicket, event.ticket_id)
    if ticket is None:
        log.warning("sla: ticket.reopened for unknown ticket %s", event.ticket_id)
        return
    ticket.round, ticket.status = max(ticket.round, data.round), TicketStatus.OPEN
    at = event.occurred_at
    older = (
        await session.scalars(
            select(DeadlineClock).where(
                DeadlineClock.ticket_id == ticket.id,
                DeadlineClock.status == ClockStatus.OPEN,
                DeadlineClock.round < data.round,
            )
        )
    ).all()
    for c in older:
        await stop_clock(session, c, at, ClockStatus.CLOSED)
    if await session.get(DeadlineClock, f"T{ticket.id}-R{data.round}") is None:
        clock = await _start_ticket_clock(session, ticket, data.round, at)
        clock.unit_id = data.lead_unit_id or ""


async def on_closed(session: AsyncSession, event: Event[TicketClosed]) -> None:
    """On `ticket.closed`: every clock of the ticket stops, its pending extension requests
    lapse and its cases are resolved."""
    at = event.occurred_at
    ticket = await session.get(SlaTicket, event.ticket_id)
    if ticket is not None:
        ticket.status, ticket.closed_at = TicketStatus.CLOSED, at
    for c in (
        await session.scalars(
            select(DeadlineClock).where(
                DeadlineClock.ticket_id == event.ticket_id, DeadlineClock.status == ClockStatus.OPEN
            )
        )
    ).all():
        await stop_clock(session, c, at, ClockStatus.CLOSED)
    await lapse_pending(session, event.ticket_id, at)
    await resolve_cases(session, event.ticket_id, at, "ticket closed")
