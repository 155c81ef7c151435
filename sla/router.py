"""sla's routes: a ticket's clocks and the overdue list."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Role, require
from shared.clock import china_time
from shared.runtime import session_dependency
from sla import service
from sla.models import Timer
from sla.schemas import ClockOut, OverdueOut, TimerOut

router = APIRouter(prefix="/api/v1/sla", tags=["sla"])

Session = Annotated[AsyncSession, Depends(session_dependency("sla"))]
Reader = Annotated[
    Principal, Depends(require(Role.OPERATOR, Role.SUPERVISOR, Role.SERVICE, Role.UNIT))
]


def _opt(value: datetime | None) -> datetime | None:
    return china_time(value) if value else None


def _timer(t: Timer) -> TimerOut:
    met = (
        None
        if t.state == "armed"
        else (t.state == "stopped" and not service.is_after(t.stopped_at, t.due_at))
    )
    return TimerOut(
        stage=t.stage,
        due_at=china_time(t.due_at),
        state=t.state,
        stopped_at=_opt(t.stopped_at),
        fired_at=_opt(t.fired_at),
        met=met,
    )


@router.get("/tickets/{ticket_id}/clocks", response_model=list[ClockOut])
async def ticket_clocks(ticket_id: str, session: Session, who: Reader) -> list[ClockOut]:
    """The ticket's clocks and deadlines; a unit sees only its own clocks."""
    return [
        ClockOut(
            id=c.id,
            ticket_id=c.ticket_id,
            assignment_id=c.assignment_id,
            unit_id=c.unit_id,
            policy=c.policy,
            started_at=china_time(c.started_at),
            timers=[_timer(t) for t in timers],
        )
        for c, timers in await service.ticket_clocks(session, ticket_id)
        if who.role is not Role.UNIT or c.unit_id == who.unit_id
    ]


@router.get("/overdue", response_model=list[OverdueOut])
async def overdue(session: Session, who: Reader) -> list[OverdueOut]:
    """Breached deadlines (超期); a unit sees its own."""
    unit = who.unit_id if who.role is Role.UNIT else None
    return [
        OverdueOut(
            ticket_id=c.ticket_id,
            assignment_id=c.assignment_id,
            unit_id=c.unit_id,
            stage=t.stage,
            due_at=china_time(t.due_at),
            fired_at=_opt(t.fired_at),
        )
        for t, c in await service.overdue(session, unit)
    ]
