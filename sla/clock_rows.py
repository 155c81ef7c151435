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
    planned = domain.plan(start, policy, domain.TICKET_STAGES, 0, calendar, reminders=False)
    return clock, planned


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
