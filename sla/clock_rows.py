"""A deadline clock's rows as every use case writes them: its timers (one per deadline and
reminder), its history, and `sla.clock_started` when an assignment's deadlines are set or move.
Shared by arming (sla/arming.py), recomputing (sla/recompute.py) and extending
(sla/extensions.py), so the three write them the same way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.calendar import WorkingCalendar
from shared.clock import aware
from shared.events.routing import TicketDispatched
from shared.events.sla import ClockStarted
from sla import domain, policies
from sla.domain import ClockStatus, TimerState
from sla.models import ClockHistory, DeadlineClock, SlaTicket, Timer, outbox
from sla.policies import Policy, Subject


def subject_of(clock: DeadlineClock) -> Subject:
    """What the clock's policy was chosen for (a ticket clock has no unit class)."""
    return Subject(
        kind=clock.kind,
        urgency=clock.urgency,
        category=clock.category,
        unit_class=clock.unit_class if clock.scope == "assignment" else None,
    )


def stages_of(clock: DeadlineClock) -> tuple[str, ...]:
    return domain.ASSIGNMENT_STAGES if clock.scope == "assignment" else domain.TICKET_STAGES


def ticket_clock(
    ticket: SlaTicket,
    round_: int,
    start: datetime,
    lead: DeadlineClock | None,
    calendar: WorkingCalendar,
    versions: Sequence[Policy],
) -> tuple[DeadlineClock, list[domain.PlannedTimer]]:
    """The round's ticket clock (时限: the citizen's overall completion deadline), led by
    `lead`, and its deadlines (no reminders: the units are reminded on their own clocks)."""
    subject = Subject(ticket.kind, ticket.urgency, ticket.category)
    policy = policies.policy_for(subject, list(versions), start)
    clock = _open_clock(
        ticket,
        policy,
        start,
        id=f"T{ticket.id}-R{round_}",
        assignment_id=lead.assignment_id if lead else "",
        unit_id=lead.unit_id if lead else "",
        scope="ticket",
        round=round_,
        role="lead",
        kind=ticket.kind,
        urgency=ticket.urgency,
        unit_class=None,
    )
    planned = domain.plan(start, policy, domain.TICKET_STAGES, 0, calendar, reminders=False)
    return clock, planned


def assignment_clock(
    ticket: SlaTicket,
    dispatched: TicketDispatched,
    clock_id: str,
    start: datetime,
    calendar: WorkingCalendar,
    versions: Sequence[Policy],
) -> tuple[DeadlineClock, list[domain.PlannedTimer]]:
    """A dispatched unit's clock (时限 of one 承办单位: sign, contact, reply) and its deadlines
    and reminders. routing decides the unit's class (单位类别) and sla takes it from the event,
    never guessing: None (an event from before routing sent it) matches only policies without
    a class."""
    subject = Subject(dispatched.kind, dispatched.urgency, ticket.category, dispatched.unit_class)
    policy = policies.policy_for(subject, list(versions), start)
    clock = _open_clock(
        ticket,
        policy,
        start,
        id=clock_id,
        assignment_id=dispatched.assignment_id,
        unit_id=dispatched.unit_id,
        scope="assignment",
        round=dispatched.round,
        role=dispatched.role,
        kind=dispatched.kind,
        urgency=dispatched.urgency,
        unit_class=dispatched.unit_class,
    )
    return clock, domain.plan(start, policy, domain.ASSIGNMENT_STAGES, 0, calendar)


def _open_clock(ticket: SlaTicket, policy: Policy, start: datetime, **whose: Any) -> DeadlineClock:
    """A new open clock on `ticket` under `policy` from `start`; `whose` says which (its id,
    scope, round, unit, role, and what its policy was chosen for)."""
    return DeadlineClock(
        policy=policy.label,
        started_at=start,
        status=ClockStatus.OPEN,
        category=ticket.category,
        area_code=ticket.area_code,
        extension_days=0,
        extension_count=0,
        time_zone="Asia/Shanghai",
        ticket_id=ticket.id,
        **whose,
    )


def history_row(clock: DeadlineClock, at: datetime, what: str, detail: str = "") -> dict[str, Any]:
    """A line of the clock's history (what happened to it), as a row to insert."""
    return {
        "ticket_id": clock.ticket_id,
        "clock_id": clock.id,
        "at": at,
        "what": what,
        "detail": detail[:255],
    }


def add_history(
    session: AsyncSession, clock: DeadlineClock, at: datetime, what: str, detail: str = ""
) -> None:
    session.add(ClockHistory(**history_row(clock, at, what, detail)))


def timer_rows(
    clock_id: str, planned: Sequence[domain.PlannedTimer], generation: int
) -> list[dict[str, Any]]:
    """A clock's planned timers as rows to insert, armed."""
    return [
        {
            "clock_id": clock_id,
            "stage": p.stage,
            "kind": p.kind,
            "threshold": p.threshold,
            "due_at": p.due_at,
            "deadline_at": p.deadline_at,
            "state": TimerState.ARMED,
            "generation": generation,
        }
        for p in planned
    ]


async def add_timers(
    session: AsyncSession,
    clock: DeadlineClock,
    planned: Sequence[domain.PlannedTimer],
    generation: int,
) -> None:
    """Arm a clock's timers: one statement for all of them (as ORM objects each needed its own
    INSERT … RETURNING, about fourteen per ticket)."""
    if planned:
        await session.execute(insert(Timer), timer_rows(clock.id, planned, generation))


async def timers_of(session: AsyncSession, clock_id: str) -> list[Timer]:
    return list(
        (
            await session.scalars(
                select(Timer).where(Timer.clock_id == clock_id).order_by(Timer.id)
            )
        ).all()
    )


def deadlines_of(timers: Sequence[Timer]) -> dict[str, datetime]:
    """Each stage's deadline, as stored."""
    return {t.stage: aware(t.due_at) for t in timers if t.kind == "deadline"}


def planned_deadlines(planned: Sequence[domain.PlannedTimer]) -> dict[str, datetime]:
    """Each stage's deadline as it will be stored (in UTC), without reading the timers back."""
    return {p.stage: p.due_at.astimezone(UTC) for p in planned if p.kind == "deadline"}


def clock_started(
    clock: DeadlineClock, due: Mapping[str, datetime], reason: str
) -> ClockStarted | None:
    """`sla.clock_started` telling the unit its deadlines (`due` by stage); None for a ticket
    clock, which is not announced."""
    if clock.scope != "assignment":
        return None
    return ClockStarted(
        clock_id=clock.id,
        assignment_id=clock.assignment_id,
        unit_id=clock.unit_id,
        policy=clock.policy,
        sign_by=due["sign"],
        respond_by=due["response"],
        complete_by=due["completion"],
        round=clock.round,
        reason=reason,  # type: ignore[arg-type]
    )


async def emit_deadlines(
    session: AsyncSession,
    clock: DeadlineClock,
    due: Mapping[str, datetime],
    at: datetime,
    reason: str,
    correlation_id: str | None = None,
) -> None:
    """Tell the unit its deadlines (`clock_started`), through the outbox."""
    started = clock_started(clock, due, reason)
    if started is not None:
        await outbox.emit(
            session,
            started,
            ticket_id=clock.ticket_id,
            occurred_at=at,
            correlation_id=correlation_id,
        )
