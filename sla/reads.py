"""What sla's API reads: a ticket's clocks and their history, what sla knows of a ticket, the
due-soon (临期) and overdue (超期) lists, and who may see which unit's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Role
from shared.clock import aware
from shared.errors import NotFound
from sla.clock_rows import timers_of
from sla.domain import ClockStatus, TimerState
from sla.models import ClockHistory, DeadlineClock, SlaTicket, Timer


async def ticket_clocks(
    session: AsyncSession, ticket_id: str, scope: str | None = "assignment"
) -> Sequence[tuple[DeadlineClock, Sequence[Timer]]]:
    """A ticket's clocks (assignment ones by default) with their timers, oldest first."""
    query = (
        select(DeadlineClock)
        .where(DeadlineClock.ticket_id == ticket_id)
        .order_by(DeadlineClock.started_at, DeadlineClock.id)
    )
    if scope:
        query = query.where(DeadlineClock.scope == scope)
    clocks = (await session.scalars(query)).all()
    return [(c, await timers_of(session, c.id)) for c in clocks]


async def clock_history(session: AsyncSession, ticket_id: str) -> Sequence[ClockHistory]:
    """What happened to a ticket's clocks, in order."""
    return (
        await session.scalars(
            select(ClockHistory)
            .where(ClockHistory.ticket_id == ticket_id)
            .order_by(ClockHistory.id)
        )
    ).all()


async def sla_ticket(session: AsyncSession, ticket_id: str) -> SlaTicket:
    """What sla knows of a ticket."""
    ticket = await session.get(SlaTicket, ticket_id)
    if ticket is None:
        raise NotFound(f"sla knows no ticket {ticket_id}", field="ticket_id")
    return ticket


def _scoped(query: Any, unit_id: str | None, area_code: str | None) -> Any:
    if unit_id:
        query = query.where(DeadlineClock.unit_id == unit_id)
    if area_code:
        query = query.where(DeadlineClock.area_code.startswith(area_code))
    return query


async def due_soon(
    session: AsyncSession,
    now: datetime,
    within: timedelta,
    unit_id: str | None,
    area_code: str | None,
) -> Sequence[tuple[Timer, DeadlineClock]]:
    """Running deadlines that fall due within `within` (through the index of armed timers)."""
    query = (
        select(Timer, DeadlineClock)
        .join(DeadlineClock, DeadlineClock.id == Timer.clock_id)
        .where(
            Timer.state == TimerState.ARMED,
            Timer.due_at > now,
            Timer.due_at <= now + within,
            Timer.kind == "deadline",
        )
        .order_by(Timer.due_at)
    )
    return cast(
        Sequence[tuple[Timer, DeadlineClock]],
        (await session.execute(_scoped(query, unit_id, area_code))).all(),
    )


async def overdue(
    session: AsyncSession,
    unit_id: str | None,
    area_code: str | None = None,
    include_finished: bool = False,
) -> Sequence[tuple[Timer, DeadlineClock]]:
    """Breached deadlines (超期): by default those whose stage is still open."""
    query = (
        select(Timer, DeadlineClock)
        .join(DeadlineClock, DeadlineClock.id == Timer.clock_id)
        .where(Timer.state == TimerState.FIRED, Timer.kind == "deadline")
        .order_by(Timer.due_at)
    )
    if not include_finished:
        query = query.where(Timer.stopped_at.is_(None), DeadlineClock.status == ClockStatus.OPEN)
    return cast(
        Sequence[tuple[Timer, DeadlineClock]],
        (await session.execute(_scoped(query, unit_id, area_code))).all(),
    )


def is_after(moment: datetime | None, due: datetime) -> bool:
    """Whether a stage finished after its deadline (a late finish, not met)."""
    return moment is not None and aware(moment) > aware(due)


def unit_scope(who: Principal, unit_id: str | None) -> str | None:
    """A unit sees only its own; the centre may filter by any unit."""
    return who.unit_id if who.role is Role.UNIT else unit_id
