"""Extensions (延期): a unit's request arrives from routing, the centre decides it, and an
approval moves the completion deadline of the assignment and, for the lead, of the ticket (the
citizen-facing expected time). The limits are sla/domain.py's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared import calendar as cal
from shared.auth import Principal
from shared.clock import aware
from shared.errors import NotFound
from shared.events import Event
from shared.events.routing import ExtensionRequested
from shared.events.sla import ExtensionDecided
from sla import domain, policies
from sla.clock_rows import (
    add_history,
    add_timers,
    deadlines_of,
    emit_deadlines,
    subject_of,
    timers_of,
)
from sla.config import settings
from sla.domain import ClockStatus, ExtensionStatus, TicketStatus, TimerState
from sla.models import DeadlineClock, Extension, SlaTicket, Timer, outbox
from sla.stored import load_calendar, load_policies
from sla.supervising import touch_cases


async def on_extension_requested(session: AsyncSession, event: Event[ExtensionRequested]) -> None:
    """On `assignment.extension_requested` (延期申请): a pending request for the centre."""
    data = event.data
    if await session.get(Extension, data.request_id) is not None:
        return
    session.add(
        Extension(
            id=data.request_id,
            ticket_id=event.ticket_id,
            assignment_id=data.assignment_id,
            unit_id=data.unit_id,
            requested_days=data.requested_days,
            reason=data.reason,
            requested_at=event.occurred_at,
            status=ExtensionStatus.PENDING,
            days=0,
        )
    )
    await touch_cases(session, event.ticket_id, event.occurred_at)


async def decide_extension(
    session: AsyncSession,
    request_id: str,
    *,
    approve: bool,
    days: int | None,
    note: str | None,
    who: Principal,
    now: datetime,
) -> Extension:
    """The centre approves or refuses (延期审批); an approval moves the completion deadline of
    the assignment and, for the lead, of the ticket (the citizen-facing expected time)."""
    request = await session.get(Extension, request_id)
    if request is None:
        raise NotFound(f"no extension request {request_id}", field="request_id")
    clock = await session.get(DeadlineClock, f"K{request.assignment_id}")
    if clock is None:
        raise NotFound(f"no clock for assignment {request.assignment_id}", field="request_id")
    ticket = await session.get(SlaTicket, request.ticket_id)
    timers = await timers_of(session, clock.id)
    completion = next(t for t in timers if t.stage == "completion" and t.kind == "deadline")
    granted = days if days is not None else request.requested_days
    approved = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Extension.days), 0)).where(
                Extension.assignment_id == request.assignment_id,
                Extension.status == ExtensionStatus.APPROVED,
            )
        )
    ).one()
    s = settings()
    domain.check_extension(
        rules=domain.ExtensionRules(
            s.extension_max_count, s.extension_max_days, s.extension_max_total_days
        ),
        approve=approve,
        days=granted,
        requested_days=request.requested_days,
        approved_before=int(approved[0]),
        days_before=int(approved[1]),
        request_status=request.status,
        clock_status=(
            ClockStatus.CLOSED
            if ticket is not None and ticket.status == TicketStatus.CLOSED
            else clock.status
        ),
        completion_state=completion.state,
    )
    before = aware(completion.due_at)
    request.decided_at, request.decided_by, request.note = now, who.subject, note
    request.complete_by_before = before
    ticket_due: datetime | None = None
    if approve:
        calendar = await load_calendar(session)
        request.status, request.days = ExtensionStatus.APPROVED, granted
        after = await _extend(session, clock, timers, granted, calendar, now)
        request.complete_by_after = after
        if clock.role == "lead":
            tclock = await session.get(DeadlineClock, f"T{clock.ticket_id}-R{clock.round}")
            if tclock is not None and tclock.status == ClockStatus.OPEN:
                ttimers = await timers_of(session, tclock.id)
                tdeadline = next(t for t in ttimers if t.kind == "deadline")
                if tdeadline.state == TimerState.ARMED:
                    ticket_due = await _extend(session, tclock, ttimers, granted, calendar, now)
                else:
                    ticket_due = aware(tdeadline.due_at)
        await session.flush()
        await emit_deadlines(
            session, clock, deadlines_of(await timers_of(session, clock.id)), now, "extended"
        )
    else:
        request.status, request.days = ExtensionStatus.REFUSED, 0
        request.complete_by_after = before
        if clock.role == "lead":
            tclock = await session.get(DeadlineClock, f"T{clock.ticket_id}-R{clock.round}")
            if tclock is not None:
                ticket_due = deadlines_of(await timers_of(session, tclock.id)).get("completion")
        add_history(session, clock, now, "extension_refused", request.id)
    await outbox.emit(
        session,
        ExtensionDecided(
            request_id=request.id,
            assignment_id=request.assignment_id,
            unit_id=request.unit_id,
            approved=approve,
            days=request.days,
            complete_by=request.complete_by_after or before,
            ticket_complete_by=ticket_due,
        ),
        ticket_id=request.ticket_id,
        occurred_at=now,
    )
    await touch_cases(session, request.ticket_id, now)
    return request


async def _extend(
    session: AsyncSession,
    clock: DeadlineClock,
    timers: list[Timer],
    days: int,
    calendar: cal.WorkingCalendar,
    now: datetime,
) -> datetime:
    """Move a clock's completion deadline by `days` working days and re-arm its reminders for
    the new deadline (a new generation: each threshold may remind once more)."""
    clock.extension_days += days
    clock.extension_count += 1
    deadline = next(t for t in timers if t.stage == "completion" and t.kind == "deadline")
    new_due = domain.extend_by_working_days(aware(deadline.due_at), days, calendar)
    deadline.due_at = deadline.deadline_at = new_due
    for t in timers:
        if t.stage == "completion" and t.kind == "reminder" and t.state == TimerState.ARMED:
            await session.delete(t)
    if clock.scope == "assignment":
        versions = await load_policies(session)
        policy = policies.policy_for(subject_of(clock), versions, aware(clock.started_at))
        start = aware(clock.started_at)
        limit = policy.completion
        fresh = []
        for r in policy.reminders:
            at = domain.remind_at(start, new_due, limit, r, calendar)
            if at is not None and at > now:
                fresh.append(domain.PlannedTimer("completion", "reminder", r.label, at, new_due))
        await add_timers(session, clock, fresh, clock.extension_count)
    add_history(session, clock, now, "extended", f"+{days} working days → {new_due.isoformat()}")
    return new_due


async def list_extensions(
    session: AsyncSession, status: str | None, unit_id: str | None
) -> Sequence[Extension]:
    """Extension requests (延期申请), oldest first; a unit's own when `unit_id` is given."""
    query = select(Extension).order_by(Extension.requested_at)
    if status:
        query = query.where(Extension.status == status)
    if unit_id:
        query = query.where(Extension.unit_id == unit_id)
    return (await session.scalars(query)).all()


async def lapse_pending(session: AsyncSession, ticket_id: str, at: datetime) -> None:
    """The ticket closed: its undecided requests lapse (nothing is left to extend)."""
    pending = (
        await session.scalars(
            select(Extension).where(
                Extension.ticket_id == ticket_id, Extension.status == ExtensionStatus.PENDING
            )
        )
    ).all()
    for e in pending:
        e.status, e.decided_at = ExtensionStatus.LAPSED, at
