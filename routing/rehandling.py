"""Re-handling (重办): a ticket the citizen was not satisfied with goes back to the unit that
led its last round, as a new round."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing.dispatching import Grounds, dispatch
from routing.models import Assignment, RoutedTicket
from shared.errors import NotFound
from shared.events import Event
from shared.events.callback import TicketReopened


async def reopen(session: AsyncSession, event: Event[TicketReopened]) -> None:
    """On `ticket.reopened`: the lead unit of the last round handles it again (重办). Not a
    re-dispatch, so not counted; the new round's lead has no assistants to wait for."""
    data = event.data
    ticket = await session.get(RoutedTicket, event.ticket_id)
    if ticket is None:
        raise NotFound(f"re-open of unknown ticket {event.ticket_id}")
    last_lead = await session.scalar(
        select(Assignment)
        .where(Assignment.ticket_id == ticket.id, Assignment.role == "lead")
        .order_by(Assignment.round.desc(), Assignment.dispatched_at.desc())
        .limit(1)
    )
    if last_lead is None:
        raise NotFound(f"ticket {ticket.id} has no lead unit to re-open to")
    ticket.round = data.round
    await dispatch(
        session,
        ticket,
        [(last_lead.unit_id, "lead")],
        Grounds(
            mode=last_lead.mode,
            basis="reopened",
            rule_id=last_lead.rule_id,
            catalogue_version=last_lead.catalogue_version,
            reason=f"重办（第{data.round}轮）：{data.reason}",
            at=event.occurred_at,
        ),
        correlation_id=event.correlation_id,
    )
