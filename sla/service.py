"""sla's use cases: arm clocks at dispatch, stop them on the unit's actions, fire breaches."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import Clock as TimeSource
from shared.clock import aware
from shared.errors import NotFound
from shared.events import Envelope
from shared.events.routing import TicketDispatched
from shared.events.sla import ClockStarted, SlaBreached
from sla import domain
from sla.calendar import WorkingCalendar
from sla.config import settings
from sla.models import Clock, Timer, outbox


async def arm_clock(session: AsyncSession, event: Envelope) -> None:
    """On `ticket.dispatched`: start the assignment's clock with its three deadlines."""
    data = cast(TicketDispatched, event.data())
    policy = domain.policy_for(data.urgency)
    calendar = WorkingCalendar()
    start = event.occurred_at
    clock = Clock(
        id=f"K{data.assignment_id}",
        ticket_id=event.ticket_id,
        assignment_id=data.assignment_id,
        unit_id=data.unit_id,
        policy=policy.name,
        started_at=start,
    )
    session.add(clock)
    deadlines = {
        "sign": domain.due_at(start, policy.sign, calendar),
        "response": domain.due_at(start, policy.response, calendar),
        "completion": domain.due_at(start, policy.completion, calendar),
    }
    for stage, due in deadlines.items():
        session.add(Timer(clock_id=clock.id, stage=stage, due_at=due, state="armed"))
    await outbox.emit(
        session,
        ClockStarted(
            clock_id=clock.id,
            assignment_id=data.assignment_id,
            unit_id=data.unit_id,
            policy=policy.name,
            sign_by=deadlines["sign"],
            respond_by=deadlines["response"],
            complete_by=deadlines["completion"],
        ),
        ticket_id=event.ticket_id,
        occurred_at=start,
        correlation_id=event.correlation_id,
    )


async def stop_stage(session: AsyncSession, event: Envelope) -> None:
    """On the unit's sign / contact / reply: that stage's deadline is met (or was breached)."""
    stage = domain.STAGE_STOPPED_BY[event.type]
    clock_id = f"K{event.payload['assignment_id']}"
    timer = await session.scalar(
        select(Timer).where(Timer.clock_id == clock_id, Timer.stage == stage)
    )
    if timer is None:
        raise NotFound(f"no {stage} timer for clock {clock_id}")
    if timer.state == "armed":
        timer.state = "stopped"
    timer.stopped_at = event.occurred_at


async def fire_due_timers(sessionmaker: async_sessionmaker[AsyncSession], clock: TimeSource) -> int:
    """Fire every armed timer that is due, in batches; each fires once (`sla.breached`).

    The query reads only due rows through the (state, due_at) index, so a tick costs what is
    due, not what is open. On PostgreSQL `FOR UPDATE SKIP LOCKED` lets replicas share the work.
    """
    fired = 0
    batch = settings().timer_batch_size
    now = clock.now()
    while True:
        async with sessionmaker() as session, session.begin():
            rows = (
                await session.execute(
                    select(Timer, Clock)
                    .join(Clock, Clock.id == Timer.clock_id)
                    .where(Timer.state == "armed", Timer.due_at <= now)
                    .order_by(Timer.due_at)
                    .limit(batch)
                    .with_for_update(skip_locked=True, of=Timer)
                )
            ).all()
            for timer, owner in rows:
                timer.state = "fired"
                timer.fired_at = now
                await outbox.emit(
                    session,
                    SlaBreached(
                        clock_id=owner.id,
                        assignment_id=owner.assignment_id,
                        unit_id=owner.unit_id,
                        stage=timer.stage,  # type: ignore[arg-type]
                        due_at=aware(timer.due_at),
                    ),
                    ticket_id=owner.ticket_id,
                    occurred_at=now,
                )
        fired += len(rows)
        if len(rows) < batch:
            return fired


async def ticket_clocks(
    session: AsyncSession, ticket_id: str
) -> Sequence[tuple[Clock, Sequence[Timer]]]:
    clocks = (
        await session.scalars(
            select(Clock).where(Clock.ticket_id == ticket_id).order_by(Clock.started_at)
        )
    ).all()
    result = []
    for c in clocks:
        timers = (
            await session.scalars(select(Timer).where(Timer.clock_id == c.id).order_by(Timer.id))
        ).all()
        result.append((c, timers))
    return result


async def overdue(session: AsyncSession, unit_id: str | None) -> Sequence[tuple[Timer, Clock]]:
    query = (
        select(Timer, Clock)
        .join(Clock, Clock.id == Timer.clock_id)
        .where(Timer.state == "fired")
        .order_by(Timer.due_at)
    )
    if unit_id:
        query = query.where(Clock.unit_id == unit_id)
    return cast(Sequence[tuple[Timer, Clock]], (await session.execute(query)).all())


def is_after(moment: datetime | None, due: datetime) -> bool:
    return moment is not None and aware(moment) > aware(due)
