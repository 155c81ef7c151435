"""A ticket's audit trail (审计): every event of the ticket in the order analytics received it,
with who caused it (`Envelope.actor`: the staff member or service whose request it was, or the
platform reacting by itself). analytics keeps the whole stream (the events it folds into
figures and the rest), so the trail is complete without asking the other services.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.models import StoredEvent
from shared.auth import Principal, Role, require
from shared.clock import china_time
from shared.errors import NotFound
from shared.events import Envelope
from shared.problems import AUTHENTICATED, problem_responses
from shared.runtime import session_dependency

router = APIRouter(
    prefix="/api/v1/analytics", tags=["analytics"], responses=problem_responses(*AUTHENTICATED)
)


class AuditEntry(BaseModel):
    at: datetime  # when it happened (China time)
    event: str  # the event type, e.g. ticket.dispatched
    producer: str  # the service that recorded it
    actor: str | None  # role:subject of who caused it; None: the platform by itself
    unit_id: str | None  # the unit it concerns, where it concerns one


async def trail(session: AsyncSession, ticket_id: str) -> list[AuditEntry]:
    bodies = (
        await session.scalars(
            select(StoredEvent.body)
            .where(StoredEvent.ticket_id == ticket_id)
            .order_by(StoredEvent.seq)
        )
    ).all()
    if not bodies:
        raise NotFound(f"No events of ticket '{ticket_id}'.", field="ticket_id")
    entries = []
    for body in bodies:
        envelope = Envelope.model_validate_json(body)
        entries.append(
            AuditEntry(
                at=china_time(envelope.occurred_at),
                event=envelope.type,
                producer=envelope.producer,
                actor=envelope.actor,
                unit_id=envelope.payload.get("unit_id"),
            )
        )
    return entries


Session = Depends(session_dependency("analytics"))
Supervisor = Depends(require(Role.SUPERVISOR))


@router.get(
    "/tickets/{ticket_id}/audit",
    response_model=list[AuditEntry],
    responses=problem_responses(404),
)
async def ticket_audit(
    ticket_id: str = Path(max_length=64),
    session: AsyncSession = Session,
    who: Principal = Supervisor,
) -> list[AuditEntry]:
    """supervisor: who did what to the ticket, in order (dispatch, sign, reply, return,
    verdict, re-open, supervision …)."""
    return await trail(session, ticket_id)
