"""callback's routes: the operators' due list and results."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from callback import service
from callback.models import CallbackTask
from callback.schemas import CallbackOut, ResultIn
from shared.auth import Principal, Role, require
from shared.clock import china_time
from shared.runtime import current_time, session_dependency

router = APIRouter(prefix="/api/v1/callbacks", tags=["callback"])

Session = Annotated[AsyncSession, Depends(session_dependency("callback"))]
Now = Annotated[datetime, Depends(current_time)]
Staff = Annotated[Principal, Depends(require(Role.OPERATOR, Role.SUPERVISOR))]
Recorder = Annotated[Principal, Depends(require(Role.OPERATOR))]


def _out(t: CallbackTask) -> CallbackOut:
    return CallbackOut(
        id=t.id,
        ticket_id=t.ticket_id,
        round=t.round,
        lead_unit_id=t.lead_unit_id,
        reply_outcome=t.reply_outcome,
        status=t.status,
        due_at=china_time(t.due_at),
        completed_at=china_time(t.completed_at) if t.completed_at else None,
        contacted_by_unit=t.contacted_by_unit,
        solved=t.solved,
        satisfaction=t.satisfaction,
        comment=t.comment,
        operator=t.operator,
    )


@router.get("", response_model=list[CallbackOut])
async def due_list(
    session: Session,
    who: Staff,
    status: Annotated[str | None, Query(pattern="^(due|completed)$")] = None,
    ticket_id: str | None = None,
) -> list[CallbackOut]:
    """The callback queue, earliest due first."""
    return [_out(t) for t in await service.due_list(session, status, ticket_id)]


@router.get("/{callback_id}", response_model=CallbackOut)
async def get_callback(callback_id: str, session: Session, who: Staff) -> CallbackOut:
    return _out(await service.get_callback(session, callback_id))


@router.post("/{callback_id}/result", response_model=CallbackOut)
async def record_result(
    callback_id: str, result: ResultIn, session: Session, now: Now, who: Recorder
) -> CallbackOut:
    """Record what the citizen said: contacted by the unit? solved? satisfied?"""
    async with session.begin():
        task = await service.record_result(
            session, callback_id, result, operator=who.subject, now=now
        )
    return _out(task)
