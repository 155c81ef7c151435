"""The centre's dispatcher (派单员): the queue of tickets no rule could place, manual dispatch
(人工派单) from it, and re-dispatch (改派) of a dispatched ticket."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing.dispatching import Grounds, check_units, dispatch, get_ticket, redispatch
from routing.domain import TicketStatus
from routing.models import RoutedTicket
from routing.schemas import DispatchIn
from shared.errors import Conflict


async def queue(session: AsyncSession) -> Sequence[RoutedTicket]:
    """The dispatcher's queue: tickets no rule (and no 首接负责) could place."""
    rows = await session.scalars(
        select(RoutedTicket)
        .where(RoutedTicket.status == TicketStatus.QUEUED)
        .order_by(RoutedTicket.received_at)
    )
    return rows.all()


async def manual_dispatch(
    session: AsyncSession, ticket_id: str, body: DispatchIn, *, now: datetime
) -> RoutedTicket:
    """The dispatcher dispatches a ticket waiting in the queue (人工派单)."""
    ticket = await get_ticket(session, ticket_id)
    if ticket.status != TicketStatus.QUEUED:
        raise Conflict(
            "This ticket is already dispatched; re-dispatch it instead.",
            status_now=ticket.status,
            allowed_actions=["redispatch"],
        )
    await check_units(session, body.lead_unit_id, body.assist_unit_ids)
    ticket.dispatch_count = 1
    await dispatch(
        session,
        ticket,
        [(body.lead_unit_id, "lead"), *((u, "assist") for u in body.assist_unit_ids or ())],
        Grounds.direct("manual", f"人工派单: {body.reason}", now),
    )
    return ticket


async def redispatch_by_centre(
    session: AsyncSession, ticket_id: str, body: DispatchIn, *, now: datetime
) -> RoutedTicket:
    """改派 as the dispatcher asks it: a new lead and, if listed, new assistants; counted."""
    return await redispatch(
        session,
        ticket_id,
        lead_unit_id=body.lead_unit_id,
        assist_unit_ids=body.assist_unit_ids,
        reason=body.reason,
        now=now,
    )
