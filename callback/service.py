"""callback's use cases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from callback import domain
from callback.config import settings
from callback.models import CallbackTask, outbox
from callback.schemas import ResultIn
from shared.errors import NotFound
from shared.events import Envelope
from shared.events.callback import CallbackCompleted, TicketClosed
from shared.events.routing import TicketReplied


async def open_callback(session: AsyncSession, event: Envelope) -> None:
    """On `ticket.replied`: queue a callback for this handling round (全量回访)."""
    data = cast(TicketReplied, event.data())
    rounds = await session.scalar(
        select(func.count())
        .select_from(CallbackTask)
        .where(CallbackTask.ticket_id == event.ticket_id)
    )
    round_ = int(rounds or 0) + 1
    session.add(
        CallbackTask(
            id=domain.callback_id(event.ticket_id, round_),
            ticket_id=event.ticket_id,
            round=round_,
            lead_unit_id=data.lead_unit_id,
            reply_outcome=data.outcome,
            status="due",
            created_at=event.occurred_at,
            due_at=event.occurred_at + timedelta(hours=settings().delay_hours),
        )
    )


async def get_callback(session: AsyncSession, callback_id: str) -> CallbackTask:
    task = await session.get(CallbackTask, callback_id)
    if task is None:
        raise NotFound(f"Callback '{callback_id}' does not exist.", field="callback_id")
    return task


async def due_list(
    session: AsyncSession, status: str | None, ticket_id: str | None
) -> Sequence[CallbackTask]:
    query = select(CallbackTask).order_by(CallbackTask.due_at)
    if status:
        query = query.where(CallbackTask.status == status)
    if ticket_id:
        query = query.where(CallbackTask.ticket_id == ticket_id)
    return (await session.scalars(query)).all()


async def record_result(
    session: AsyncSession, callback_id: str, result: ResultIn, *, operator: str, now: datetime
) -> CallbackTask:
    """Record the citizen's verdicts; the ticket is then closed."""
    task = await get_callback(session, callback_id)
    domain.ensure_open(task.status)
    task.status = "completed"
    task.completed_at = now
    task.contacted_by_unit = result.contacted_by_unit
    task.solved = result.solved
    task.satisfaction = result.satisfaction
    task.comment = result.comment
    task.operator = operator
    await outbox.emit(
        session,
        CallbackCompleted(
            callback_id=task.id,
            round=task.round,
            unit_id=task.lead_unit_id,
            contacted_by_unit=result.contacted_by_unit,
            solved=result.solved,
            satisfaction=result.satisfaction,
        ),
        ticket_id=task.ticket_id,
        occurred_at=now,
    )
    await outbox.emit(
        session,
        TicketClosed(reason="callback completed"),
        ticket_id=task.ticket_id,
        occurred_at=now,
    )
    return task
