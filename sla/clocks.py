"""Deadline clocks (时限) driven by lifecycle events: a ticket is remembered when received, a
dispatch arms the unit's clock (and the round's ticket clock for the lead), the unit's steps
stop stages, a return, withdrawal, re-open or close stops clocks. sla/handlers.py maps the event
types to these handlers; the rules are sla/domain.py's and sla/policies.py's."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared import calendar as cal
from shared.events import Event
from shared.events.callback import TicketClosed, TicketReopened
from shared.events.intake import TicketReceived
from shared.events.routing import (
    AssignmentContacted,
    AssignmentReplied,
    AssignmentReturned,
    AssignmentSigned,
    AssignmentWithdrawn,
    TicketDispatched,
    TicketReplied,
)
from sla import domain, policies, supervision
from sla.clock_rows import add_history, add_timers, emit_deadlines, timers_of
from sla.domain import ClockStatus, TicketStatus, TimerState
from sla.extensions import lapse_pending
from sla.models import DeadlineClock, SlaTicket, Timer
from sla.policies import Policy, Subject
from sla.stored import load_calendar, load_policies
from sla.supervising import check_unit_complaints, open_case, resolve_cases, touch_cases

log = logging.getLogger(__name__)


async def on_received(session: AsyncSession, event: Event[TicketReceived]) -> None:
    """On `ticket.received`: remember what policies and supervision need."""
    data = event.data
    ticket = await session.get(SlaTicket, event.ticket_id)
    if ticket is None:
        ticket = SlaTicket(id=event.ticket_id, dispatch_count=0, round=1)
        session.add(ticket)
    ticket.kind, ticket.category, ticket.urgency = data.kind, data.category, data.urgency
    ticket.area_code, ticket.citizen_ref = data.area_code, data.citizen_ref
    ticket.received_at = data.received_at
    ticket.status = TicketStatus.ANSWERED if data.answered else TicketStatus.OPEN


async def _ticket_for_dispatch(session: AsyncSession, event: Event[TicketDispatched]) -> SlaTicket:
    data = event.data
    ticket = await session.get(SlaTicket, event.ticket_id)
    if ticket is None:  # received before sla kept tickets: what the dispatch tells us
        ticket = SlaTicket(
            id=event.ticket_id,
            kind=data.kind,
            category="",
            urgency=data.urgency,
            area_code=None,
            received_at=event.occurred_at,
            status=TicketStatus.OPEN,
            round=data.round,
            dispatch_count=0,
        )
        session.add(ticket)
    ticket.dispatch_count = max(ticket.dispatch_count or 0, data.dispatch_count)
    ticket.round = max(ticket.round or 1, data.round)
    ticket.status = TicketStatus.OPEN
    return ticket


async def arm_clock(session: AsyncSession, event: Event[TicketDispatched]) -> None:
    """On `ticket.dispatched`: a fresh clock for the assignment; for the lead, the round's
    ticket clock starts (or, after a re-dispatch, keeps running with the new lead)."""
    data = event.data
    clock_id = f"K{data.assignment_id}"
    if await session.get(DeadlineClock, clock_id) is not None:
        return
    ticket = await _ticket_for_dispatch(session, event)
    calendar = await load_calendar(session)
    versions = await load_policies(session)
    start = event.occurred_at
    # routing decides a unit's class (单位类别); sla takes it from the event and never guesses.
    # None (an event from before routing sent it): only policies without a class match.
    unit_class = data.unit_class
    subject = Subject(data.kind, data.urgency, ticket.category, unit_class)
    policy = policies.policy_for(subject, versions, start)
    clock = DeadlineClock(
        id=clock_id,
        ticket_id=event.ticket_id,
        assignment_id=data.assignment_id,
        unit_id=data.unit_id,
        policy=policy.label,
        started_at=start,
        scope="assignment",
        round=data.round,
        role=data.role,
        status=ClockStatus.OPEN,
        kind=data.kind,
        urgency=data.urgency,
        category=ticket.category,
        area_code=ticket.area_code,
        unit_class=unit_class,
        extension_days=0,
        extension_count=0,
        time_zone="Asia/Shanghai",
    )
    session.add(clock)
    planned = domain.plan(start, policy, domain.ASSIGNMENT_STAGES, 0, calendar)
    await add_timers(session, clock, planned, 0)
    add_history(session, clock, start, "started", f"{data.unit_name} ({data.role}), {policy.label}")
    await session.flush()
    await emit_deadlines(
        session,
        clock,
        await timers_of(session, clock.id),
        start,
        "dispatched",
        event.correlation_id,
    )

    if data.role == "lead":
        await _lead_dispatched(session, ticket, clock, data, calendar, versions, start)
    if supervision.is_redispatched(data.dispatch_count):
        await open_case(
            session,
            ticket_id=event.ticket_id,
            reason="redispatched",
            at=start,
            unit_id=data.unit_id,
            area_code=ticket.area_code,
        )
    if data.role == "lead" and data.kind == "complaint" and ticket.category:
        await check_unit_complaints(session, ticket, data.unit_id, start)
    await touch_cases(session, event.ticket_id, start)


async def _lead_dispatched(
    session: AsyncSession,
    ticket: SlaTicket,
    lead: DeadlineClock,
    data: TicketDispatched,
    calendar: cal.WorkingCalendar,
    versions: list[Policy],
    start: datetime,
) -> None:
    # Re-dispatch (改派): the previous lead of the round stops; the new one got a fresh clock.
    previous = (
        await session.scalars(
            select(DeadlineClock).where(
                DeadlineClock.ticket_id == ticket.id,
                DeadlineClock.scope == "assignment",
                DeadlineClock.role == "lead",
                DeadlineClock.round == data.round,
                DeadlineClock.status == ClockStatus.OPEN,
                DeadlineClock.id != lead.id,
            )
        )
    ).all()
    for old in previous:
        await _stop_clock(session, old, start, ClockStatus.REDISPATCHED)
    ticket_clock = await session.get(DeadlineClock, f"T{ticket.id}-R{data.round}")
    if ticket_clock is None:
        await _start_ticket_clock(session, ticket, data.round, start, lead, calendar, versions)
    elif ticket_clock.status == ClockStatus.OPEN:
        ticket_clock.assignment_id, ticket_clock.unit_id = lead.assignment_id, lead.unit_id
        add_history(
            session,
            ticket_clock,
            start,
            "lead_changed",
            f"new lead {lead.unit_id}; clock keeps running",
        )


async def _start_ticket_clock(
    session: AsyncSession,
    ticket: SlaTicket,
    round_: int,
    start: datetime,
    lead: DeadlineClock | None,
    calendar: cal.WorkingCalendar,
    versions: list[Policy],
) -> DeadlineClock:
    subject = Subject(ticket.kind, ticket.urgency, ticket.category)
    policy = policies.policy_for(subject, versions, start)
    clock = DeadlineClock(
        id=f"T{ticket.id}-R{round_}",
        ticket_id=ticket.id,
        assignment_id=lead.assignment_id if lead else "",
        unit_id=lead.unit_id if lead else "",
        policy=policy.label,
        started_at=start,
        scope="ticket",
        round=round_,
        role="lead",
        status=ClockStatus.OPEN,
        kind=ticket.kind,
        urgency=ticket.urgency,
        category=ticket.category,
        area_code=ticket.area_code,
        unit_class=None,
        extension_days=0,
        extension_count=0,
        time_zone="Asia/Shanghai",
    )
    session.add(clock)
    planned = domain.plan(start, policy, domain.TICKET_STAGES, 0, calendar, reminders=False)
    await add_timers(session, clock, planned, 0)
    add_history(session, clock, start, "started", f"round {round_}, {policy.label}")
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


async def _stop_clock(
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
        await _stop_clock(session, clock, event.occurred_at, ClockStatus.RETURNED)


async def on_withdrawn(session: AsyncSession, event: Event[AssignmentWithdrawn]) -> None:
    """On `assignment.withdrawn` (re-dispatch, forwarding, joint determination, an assisting
    unit timed out): the assignment's clock stops; the ticket's keeps running."""
    clock = await session.get(DeadlineClock, f"K{event.data.assignment_id}")
    if clock is not None and clock.status == ClockStatus.OPEN:
        await _stop_clock(session, clock, event.occurred_at, ClockStatus.WITHDRAWN)


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
        await _stop_clock(session, c, at, ClockStatus.CLOSED)
    if await session.get(DeadlineClock, f"T{ticket.id}-R{data.round}") is None:
        calendar = await load_calendar(session)
        versions = await load_policies(session)
        clock = await _start_ticket_clock(session, ticket, data.round, at, None, calendar, versions)
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
        await _stop_clock(session, c, at, ClockStatus.CLOSED)
    await lapse_pending(session, event.ticket_id, at)
    await resolve_cases(session, event.ticket_id, at, "ticket closed")
