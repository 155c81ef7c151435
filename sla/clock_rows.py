"""A deadline clock's rows as every use case writes them: its timers (one per deadline and
reminder), its history, and `sla.clock_started` when an assignment's deadlines are set or move.
Shared by arming (sla/clocks.py), recomputing (sla/recompute.py) and extending
(sla/extensions.py), so the three write them the same way."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.clock import aware
from shared.events.sla import ClockStarted
from sla import domain
from sla.domain import TimerState
from sla.models import ClockHistory, DeadlineClock, Timer, outbox
from sla.policies import Subject


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


def add_history(
    session: AsyncSession, clock: DeadlineClock, at: datetime, what: str, detail: str = ""
) -> None:
    session.add(
        ClockHistory(
            ticket_id=clock.ticket_id, clock_id=clock.id, at=at, what=what, detail=detail[:255]
        )
    )


async def add_timers(
    session: AsyncSession,
    clock: DeadlineClock,
    planned: Sequence[domain.PlannedTimer],
    generation: int,
) -> None:
    """Arm a clock's timers: one statement for all of them (as ORM objects each needed its own
    INSERT … RETURNING, about fourteen per ticket)."""
    if not planned:
        return
    await session.execute(
        insert(Timer),
        [
            {
                "clock_id": clock.id,
                "stage": p.stage,
                "kind": p.kind,
                "threshold": p.threshold,
                "due_at": p.due_at,
                "deadline_at": p.deadline_at,
                "state": TimerState.ARMED,
                "generation": generation,
            }
            for p in planned
        ],
    )


async def timers_of(session: AsyncSession, clock_id: str) -> list[Timer]:
    return list(
        (
            await session.scalars(
                select(Timer).where(Timer.clock_id == clock_id).order_by(Timer.id)
            )
        ).all()
    )


def deadlines_of(timers: Sequence[Timer]) -> dict[str, datetime]:
    """Each stage's deadline."""
    return {t.stage: aware(t.due_at) for t in timers if t.kind == "deadline"}


async def emit_deadlines(
    session: AsyncSession,
    clock: DeadlineClock,
    timers: Sequence[Timer],
    at: datetime,
    reason: str,
    correlation_id: str | None = None,
) -> None:
    """Tell the unit its deadlines (`sla.clock_started`); ticket clocks are not announced."""
    if clock.scope != "assignment":
        return
    due = deadlines_of(timers)
    await outbox.emit(
        session,
        ClockStarted(
            clock_id=clock.id,
            assignment_id=clock.assignment_id,
            unit_id=clock.unit_id,
            policy=clock.policy,
            sign_by=due["sign"],
            respond_by=due["response"],
            complete_by=due["completion"],
            round=clock.round,
            reason=reason,  # type: ignore[arg-type]
        ),
        ticket_id=clock.ticket_id,
        occurred_at=at,
        correlation_id=correlation_id,
    )
