"""routing's routes: the units' worklists and actions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from routing import domain, service
from routing.models import Assignment, RoutedTicket
from routing.schemas import AssignmentOut, ExtensionIn, ExtensionOut, ReplyIn, UnitOut
from shared.auth import Principal, Role, require
from shared.clock import china_time
from shared.runtime import current_time, session_dependency

router = APIRouter(prefix="/api/v1", tags=["routing"])

Session = Annotated[AsyncSession, Depends(session_dependency("routing"))]
Now = Annotated[datetime, Depends(current_time)]
UnitOnly = Annotated[Principal, Depends(require(Role.UNIT))]
Reader = Annotated[
    Principal, Depends(require(Role.UNIT, Role.OPERATOR, Role.SUPERVISOR, Role.SERVICE))
]
Centre = Annotated[Principal, Depends(require(Role.OPERATOR, Role.SUPERVISOR, Role.SERVICE))]


def _opt(value: datetime | None) -> datetime | None:
    return china_time(value) if value else None


def _out(a: Assignment, t: RoutedTicket) -> AssignmentOut:
    return AssignmentOut(
        id=a.id,
        ticket_id=a.ticket_id,
        unit_id=a.unit_id,
        role=a.role,
        round=a.round,
        status=a.status,
        allowed_actions=sorted(domain.WORKFLOW.get(a.status, {})),
        title=t.title,
        description=t.description,
        category=t.category,
        address=t.address,
        reason=a.reason,
        dispatched_at=china_time(a.dispatched_at),
        signed_at=_opt(a.signed_at),
        contacted_at=_opt(a.contacted_at),
        replied_at=_opt(a.replied_at),
        outcome=a.outcome,
        explanation=a.explanation,
    )


async def _with_ticket(session: AsyncSession, a: Assignment) -> AssignmentOut:
    ticket = await session.get(RoutedTicket, a.ticket_id)
    assert ticket is not None
    return _out(a, ticket)


@router.get("/assignments", response_model=list[AssignmentOut])
async def worklist(
    session: Session,
    who: Reader,
    status: Annotated[
        str | None, Query(description="dispatched, signed, contacted, replied")
    ] = None,
) -> list[AssignmentOut]:
    """The worklist: a unit sees its own assignments, the centre sees all."""
    return [_out(a, t) for a, t in await service.worklist(session, who, status)]


@router.get("/assignments/{assignment_id}", response_model=AssignmentOut)
async def get_assignment(assignment_id: str, session: Session, who: Reader) -> AssignmentOut:
    return await _with_ticket(session, await service.get_assignment(session, assignment_id, who))


@router.post("/assignments/{assignment_id}/sign", response_model=AssignmentOut)
async def sign(assignment_id: str, session: Session, now: Now, who: UnitOnly) -> AssignmentOut:
    """签收: the unit takes the ticket."""
    async with session.begin():
        a = await service.act(session, assignment_id, "sign", who=who, now=now)
    return await _with_ticket(session, a)


@router.post("/assignments/{assignment_id}/contact", response_model=AssignmentOut)
async def contact(assignment_id: str, session: Session, now: Now, who: UnitOnly) -> AssignmentOut:
    """首次联系: the unit has contacted the citizen (this is the response)."""
    async with session.begin():
        a = await service.act(session, assignment_id, "contact", who=who, now=now)
    return await _with_ticket(session, a)


@router.post("/assignments/{assignment_id}/reply", response_model=AssignmentOut)
async def reply(
    assignment_id: str, body: ReplyIn, session: Session, now: Now, who: UnitOnly
) -> AssignmentOut:
    """办结反馈: the unit's outcome and explanation."""
    async with session.begin():
        a = await service.act(session, assignment_id, "reply", who=who, now=now, reply=body)
    return await _with_ticket(session, a)


@router.post("/assignments/{assignment_id}/extension", status_code=202, response_model=ExtensionOut)
async def request_extension(
    assignment_id: str, body: ExtensionIn, session: Session, now: Now, who: UnitOnly
) -> ExtensionOut:
    """延期申请: ask the centre for more working days; sla approves or refuses."""
    async with session.begin():
        r = await service.request_extension(session, assignment_id, body, who=who, now=now)
    return ExtensionOut(
        id=r.id,
        assignment_id=r.assignment_id,
        requested_days=r.requested_days,
        reason=r.reason,
        requested_at=china_time(r.requested_at),
    )


@router.get("/units", response_model=list[UnitOut])
async def units(session: Session, who: Centre) -> list[UnitOut]:
    return [
        UnitOut(id=u.id, name=u.name, kind=u.kind, area_code=u.area_code)
        for u in await service.list_units(session)
    ]
