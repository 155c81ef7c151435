"""intake's use cases: load → decide with domain.py → write → add events to the outbox."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake import domain
from intake.models import Area, Ticket, TimelineEntry, outbox
from intake.schemas import TicketIn
from shared.clock import aware
from shared.errors import NotFound
from shared.events import Envelope
from shared.events.intake import TicketAnswered, TicketReceived


async def gazetteer(session: AsyncSession) -> list[domain.AreaName]:
    areas = (await session.scalars(select(Area))).all()
    return [
        domain.AreaName(a.code, a.level, (a.name, *filter(None, a.aliases.split("|"))))
        for a in areas
    ]


async def receive_ticket(
    session: AsyncSession,
    report: TicketIn,
    *,
    now: datetime,
    citizen_ref_secret: str,
    operator: str | None = None,
) -> Ticket:
    """Accept a report as a ticket (受理) and announce it with `ticket.received`; with an answer
    from an operator, close it on the spot (`ticket.answered`)."""
    domain.check_on_the_spot_answer(report.kind, report.answer)
    phone = None
    if report.citizen.phone and not report.citizen.anonymous:
        phone = domain.normalize_phone(report.citizen.phone)
    area_code = report.area_code or domain.resolve_area(report.address, await gazetteer(session))
    ticket = Ticket(
        id=domain.new_ticket_id(now, secrets.token_hex(5)),
        channel=report.channel,
        kind=report.kind,
        category=report.category,
        urgency=report.urgency,
        title=report.title,
        description=report.description,
        address=report.address,
        area_code=area_code,
        citizen_name=None if report.citizen.anonymous else report.citizen.name,
        citizen_phone=phone,
        citizen_ref=domain.citizen_ref(phone, citizen_ref_secret),
        anonymous=report.citizen.anonymous,
        status="answered" if report.answer else "received",
        received_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.add(
        TimelineEntry(
            ticket_id=ticket.id,
            at=now,
            event_type="ticket.received",
            text=f"已受理（{report.channel}渠道）",
        )
    )
    await outbox.emit(
        session,
        TicketReceived(
            channel=ticket.channel,
            kind=report.kind,
            category=ticket.category,
            urgency=report.urgency,
            title=ticket.title,
            description=ticket.description,
            area_code=ticket.area_code,
            address=ticket.address,
            citizen_ref=ticket.citizen_ref,
            anonymous=ticket.anonymous,
            received_at=now,
            answered=report.answer is not None,
        ),
        ticket_id=ticket.id,
        occurred_at=now,
    )
    if report.answer is not None:
        session.add(
            TimelineEntry(
                ticket_id=ticket.id,
                at=now,
                event_type="ticket.answered",
                text=f"话务员当场解答：{report.answer}",
            )
        )
        await outbox.emit(
            session,
            TicketAnswered(answer=report.answer, answered_by=operator or "operator"),
            ticket_id=ticket.id,
            occurred_at=now,
        )
    return ticket


async def get_ticket(session: AsyncSession, ticket_id: str) -> Ticket:
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket '{ticket_id}' does not exist.", field="ticket_id")
    return ticket


async def timeline(session: AsyncSession, ticket_id: str) -> Sequence[TimelineEntry]:
    rows = await session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.ticket_id == ticket_id)
        .order_by(TimelineEntry.at, TimelineEntry.id)
    )
    return rows.all()


async def list_tickets(
    session: AsyncSession, *, status: str | None, lead_unit_id: str | None, limit: int
) -> Sequence[Ticket]:
    query = select(Ticket).order_by(Ticket.received_at.desc()).limit(limit)
    if status:
        query = query.where(Ticket.status == status)
    if lead_unit_id:
        query = query.where(Ticket.lead_unit_id == lead_unit_id)
    return (await session.scalars(query)).all()


async def record_progress(session: AsyncSession, event: Envelope) -> None:
    """Follow the ticket through the other services' events: its status and its timeline."""
    ticket = await session.get(Ticket, event.ticket_id)
    if ticket is None:
        raise NotFound(f"event {event.type} for unknown ticket {event.ticket_id}")
    payload: Mapping[str, Any] = event.payload
    status, text = domain.progress(event.type, payload)
    if event.type == "ticket.dispatched" and payload["role"] == "lead":
        ticket.lead_unit_id = payload["unit_id"]
        ticket.lead_unit_name = payload["unit_name"]
    if status and domain.moves_forward(ticket.status, status):
        ticket.status = status
    ticket.updated_at = max(aware(ticket.updated_at), event.occurred_at)
    session.add(
        TimelineEntry(ticket_id=ticket.id, at=event.occurred_at, event_type=event.type, text=text)
    )


async def load_gazetteer(session: AsyncSession, areas: Iterable[Mapping[str, Any]]) -> int:
    count = 0
    for area in areas:
        await session.merge(
            Area(
                code=area["code"],
                name=area["name"],
                level=area["level"],
                parent_code=area.get("parent"),
                aliases="|".join(area.get("aliases", [])),
            )
        )
        count += 1
    return count
