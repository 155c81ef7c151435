"""Recomputation (重算): after a calendar or policy change, every open clock's running stages
get the deadlines and reminders the new calendar and policies give them. History is never
rewritten: met or breached stages and closed clocks stay as they were."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared import calendar as cal
from shared.clock import aware
from sla import domain, policies
from sla.clock_rows import (
    add_history,
    add_timers,
    deadlines_of,
    emit_deadlines,
    stages_of,
    subject_of,
    timers_of,
)
from sla.domain import ClockStatus, TimerState
from sla.models import DeadlineClock, Timer
from sla.policies import Policy
from sla.stored import load_calendar, load_policies


async def recompute_open_clocks(session: AsyncSession, at: datetime) -> int:
    """After a calendar or policy change: every open clock's running stages get deadlines and
    reminders from the calendar and the policy in force when the clock started. Stopped and
    fired timers, and clocks that are no longer open, are never touched. Returns the clocks
    whose deadlines moved."""
    calendar = await load_calendar(session)
    versions = await load_policies(session)
    clocks = (
        await session.scalars(select(DeadlineClock).where(DeadlineClock.status == ClockStatus.OPEN))
    ).all()
    by_clock: dict[str, list[Timer]] = {c.id: [] for c in clocks}
    if clocks:
        # One read of every open clock's timers, not one per clock.
        timers = (
            await session.scalars(
                select(Timer)
                .join(DeadlineClock, DeadlineClock.id == Timer.clock_id)
                .where(DeadlineClock.status == ClockStatus.OPEN)
                .order_by(Timer.id)
            )
        ).all()
        for t in timers:
            by_clock[t.clock_id].append(t)
    moved = 0
    for clock in clocks:
        if await _recompute(session, clock, by_clock[clock.id], calendar, versions, at):
            moved += 1
    return moved


async def _recompute(
    session: AsyncSession,
    clock: DeadlineClock,
    timers: list[Timer],
    calendar: cal.WorkingCalendar,
    versions: Sequence[Policy],
    at: datetime,
) -> bool:
    start = aware(clock.started_at)
    policy = policies.policy_for(subject_of(clock), versions, start)
    planned = domain.plan(
        start,
        policy,
        stages_of(clock),
        clock.extension_days,
        calendar,
        reminders=clock.scope == "assignment",
    )
    changed = policy.label != clock.policy
    clock.policy = policy.label
    for stage in stages_of(clock):
        deadline = next(t for t in timers if t.stage == stage and t.kind == "deadline")
        if deadline.state != TimerState.ARMED:
            continue  # met or breached: history, not to be rewritten
        new = next(p for p in planned if p.stage == stage and p.kind == "deadline")
        if aware(deadline.due_at) != new.due_at:
            deadline.due_at = deadline.deadline_at = new.due_at
            changed = True
        # A threshold that already reminded in this generation must not remind again.
        fired = {
            t.threshold
            for t in timers
            if t.stage == stage
            and t.kind == "reminder"
            and t.state != TimerState.ARMED
            and t.generation == clock.extension_count
        }
        old = {
            (t.threshold, aware(t.due_at))
            for t in timers
            if t.stage == stage and t.kind == "reminder" and t.state == TimerState.ARMED
        }
        fresh = [
            p
            for p in planned
            if p.stage == stage and p.kind == "reminder" and p.threshold not in fired
        ]
        if old != {(p.threshold, p.due_at) for p in fresh}:
            for t in timers:
                if t.stage == stage and t.kind == "reminder" and t.state == TimerState.ARMED:
                    await session.delete(t)
            await add_timers(session, clock, fresh, clock.extension_count)
    if changed:
        add_history(session, clock, at, "recomputed", policy.label)
        await session.flush()
        await emit_deadlines(
            session, clock, deadlines_of(await timers_of(session, clock.id)), at, "recomputed"
        )
    return changed
