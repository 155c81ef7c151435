"""intake's routes: thin adapters; domain errors become problem+json."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from intake import domain, service
from intake.models import Ticket
from intake.schemas import CitizenOut, TicketIn, TicketOut, TicketSummary, TimelineOut, UnitRef
from shared.auth import Principal, Role, require
from shared.clock import china_time
from shared.errors import Forbidden, InvalidInput
from shared.runtime import current_time, session_dependency
from shared.settings import platform_settings

router = APIRouter(prefix="/api/v1/tickets", tags=["intake"])

Session = Annotated[AsyncSession, Depends(session_dependency("intake"))]
Now = Annotated[datetime, Depends(current_time)]
Reporter = Annotated[Principal, Depends(require(Role.GATEWAY, Role.OPERATOR))]
Reader = Annotated[
    Principal, Depends(require(Role.OPERATOR, Role.SUPERVISOR, Role.SERVICE, Role.UNIT))
]


def _lead(ticket: Ticket) -> UnitRef | None:
    return (
        UnitRef(id=ticket.lead_unit_id, name=ticket.lead_unit_name) if ticket.lead_unit_id else None
    )


def _summary(ticket: Ticket) -> TicketSummary:
    return TicketSummary(
        id=ticket.id,
        status=ticket.status,
        status_text=domain.STATUS_TEXT[ticket.status],
        channel=ticket.channel,
        category=ticket.category,
        title=ticket.title,
        area_code=ticket.area_code,
        lead_unit=_lead(ticket),
        received_at=china_time(ticket.received_at),
    )


async def _full(session: AsyncSession, ticket: Ticket, reader: Principal) -> TicketOut:
    phone = (
        ticket.citizen_phone
        if reader.role is Role.OPERATOR
        else domain.mask_phone(ticket.citizen_phone)
    )
    entries = await service.timeline(session, ticket.id)
    return TicketOut(
        **_summary(ticket).model_dump(exclude={"lead_unit"}),
        kind=ticket.kind,
        urgency=ticket.urgency,
        description=ticket.description,
        address=ticket.address,
        lead_unit=_lead(ticket),
        citizen=CitizenOut(name=ticket.citizen_name, phone=phone, anonymous=ticket.anonymous),
        timeline=[
            TimelineOut(at=china_time(e.at), event=e.event_type, text=e.text) for e in entries
        ],
    )


@router.post("", status_code=201, response_model=TicketOut)
async def receive_ticket(report: TicketIn, session: Session, now: Now, who: Reporter) -> TicketOut:
    """Accept a citizen's report from a channel gateway or an operator (受理). An operator may
    answer a consultation on the spot (`answer`): it is closed at intake and called back."""
    if report.answer is not None and who.role is not Role.OPERATOR:
        raise Forbidden("Only an operator answers a consultation on the spot.")
    async with session.begin():
        ticket = await service.receive_ticket(
            session,
            report,
            now=now,
            citizen_ref_secret=platform_settings().citizen_ref_secret,
            operator=who.subject,
        )
    return await _full(session, ticket, who)


@router.get("/{ticket_id}", response_model=TicketOut)
async def get_ticket(ticket_id: str, session: Session, who: Reader) -> TicketOut:
    """A ticket with its status, lead unit and timeline. A unit sees only tickets it leads."""
    ticket = await service.get_ticket(session, ticket_id)
    if who.role is Role.UNIT and ticket.lead_unit_id != who.unit_id:
        raise Forbidden("This ticket is not assigned to your unit.")
    return await _full(session, ticket, who)


@router.get("", response_model=list[TicketSummary])
async def list_tickets(
    session: Session,
    who: Reader,
    status: Annotated[
        str | None, Query(description="received, dispatched, in_progress, replied, closed")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[TicketSummary]:
    """Newest tickets first; a unit sees only the tickets it leads."""
    if status is not None and status not in domain.STATUS_TEXT:
        raise InvalidInput(f"status: unknown status '{status}'.", field="status")
    lead = who.unit_id if who.role is Role.UNIT else None
    tickets = await service.list_tickets(session, status=status, lead_unit_id=lead, limit=limit)
    return [_summary(t) for t in tickets]
