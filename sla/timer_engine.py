"""The timer engine: the scheduled job that fires due deadlines and reminders (`sla.breached`,
`sla.reminder`), each exactly once whichever replica runs it. An overdue ticket clock opens a
supervision case (督办)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import metrics
from shared.clock import Clock, aware
from shared.events.sla import SlaBreached, SlaReminder
from sla.clock_rows import add_history
from sla.config import settings
from sla.domain import TimerState
from sla.models import DeadlineClock, Timer, outbox
from sla.supervising import Opening, open_case


async def fire_due_timers(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> int:
    """Fire every armed timer that is due, in batches: `sla.reminder` or `sla.breached`, each
    once, written with its state change in one transaction. Returns the events emitted.

    The query reads only due rows through the (state, due_at) index, so a tick costs what is
    due, not what is open. On PostgreSQL `FOR UPDATE SKIP LOCKED` lets replicas share the work.
    A restart or a clock jump forward finds the rows still armed; a reminder whose deadline has
    already passed is skipped (the breach says it).
    """
    emitted = 0
    batch = settings().timer_batch_size
    now = clock.now()
    while True:
        async with sessionmaker() as session, session.begin():
            rows = (
                await session.execute(
                    select(Timer, DeadlineClock)
                    .join(DeadlineClock, DeadlineClock.id == Timer.clock_id)
                    .where(Timer.state == TimerState.ARMED, Timer.due_at <= now)
                    .order_by(Timer.due_at, Timer.id)
                    .limit(batch)
                    .with_for_update(skip_locked=True, of=Timer)
                )
            ).all()
            for timer, owner in rows:
                emitted += await _fire(session, timer, owner, now)
        if len(rows) < batch:
            return emitted


async def _claim(session: AsyncSession, timer: Timer, state: TimerState, now: datetime) -> bool:
    """Move an armed timer to `state`; False if someone else (another replica, a stop) did
    first. The conditional update is what makes firing exactly-once on every database."""
    result = await session.execute(
        update(Timer)
        .where(Timer.id == timer.id, Timer.state == TimerState.ARMED)
        .values(state=state, fired_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _count_fired(kind: str, timer: Timer, now: datetime) -> None:
    metrics.TIMERS_FIRED.labels(kind).inc()
    metrics.TIMER_LATENESS.observe(max((now - aware(timer.due_at)).total_seconds(), 0.0))


async def gauges(session: AsyncSession, now: datetime) -> None:
    """Timers past their time and not fired yet: more than a tick's worth means the engine is
    falling behind (an alert rule watches it)."""
    due = await session.scalar(
        select(func.count())
        .select_from(Timer)
        .where(Timer.state == TimerState.ARMED, Timer.due_at <= now)
    )
    metrics.TIMERS_DUE.set(int(due or 0))


async def _fire(session: AsyncSession, timer: Timer, owner: DeadlineClock, now: datetime) -> int:
    deadline_at = aware(timer.deadline_at or timer.due_at)
    if timer.kind == "reminder":
        if deadline_at <= now:
            await _claim(session, timer, TimerState.SKIPPED, now)
            return 0
        if not await _claim(session, timer, TimerState.FIRED, now):
            return 0
        _count_fired("reminder", timer, now)
        await outbox.emit(
            session,
            SlaReminder(
                clock_id=owner.id,
                assignment_id=owner.assignment_id,
                unit_id=owner.unit_id,
                stage=timer.stage,  # type: ignore[arg-type]
                threshold=timer.threshold,
                due_at=deadline_at,
                round=owner.round,
            ),
            ticket_id=owner.ticket_id,
            occurred_at=now,
        )
        add_history(session, owner, now, "reminded", f"{timer.stage} {timer.threshold}")
        return 1
    if not await _claim(session, timer, TimerState.FIRED, now):
        return 0
    _count_fired("breach", timer, now)
    await outbox.emit(
        session,
        SlaBreached(
            clock_id=owner.id,
            assignment_id=owner.assignment_id,
            unit_id=owner.unit_id,
            stage=timer.stage,  # type: ignore[arg-type]
            due_at=aware(timer.due_at),
            scope=owner.scope,  # type: ignore[arg-type]
            round=owner.round,
        ),
        ticket_id=owner.ticket_id,
        occurred_at=now,
    )
    add_history(session, owner, now, "breached", timer.stage)
    if owner.scope == "ticket":
        # The citizen-facing deadline passed (超期): the ticket is supervised from that moment.
        await open_case(
            session,
            Opening(
                ticket_id=owner.ticket_id,
                reason="overdue",
                at=aware(timer.due_at),
                unit_id=owner.unit_id or None,
                area_code=owner.area_code,
            ),
        )
    return 1
