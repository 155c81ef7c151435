"""Reading tickets: one ticket, its timeline and repeats, an operator's search, and a citizen's
own ticket by its number and phone (the mini-program's credential)."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake import domain
from intake.models import Repeat, Ticket, TimelineEntry
from shared.errors import InvalidInput, NotFound


async def get_ticket(session: AsyncSession, ticket_id: str) -> Ticket:
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket '{ticket_id}' does not exist.", field="ticket_id")
    return ticket


async def tickets_by_id(session: AsyncSession, ids: Sequence[str]) -> dict[str, Ticket]:
    """The tickets of these numbers that exist, by number."""
    if not ids:
        return {}
    found = await session.scalars(select(Ticket).where(Ticket.id.in_(ids)))
    return {t.id: t for t in found}


async def timeline(session: AsyncSession, ticket_id: str) -> Sequence[TimelineEntry]:
    rows = await session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.ticket_id == ticket_id)
        .order_by(TimelineEntry.at, TimelineEntry.id)
    )
    return rows.all()


async def repeats(session: AsyncSession, ticket_id: str) -> Sequence[Repeat]:
    """The reports linked to the ticket as repeats (重复诉求), oldest first."""
    rows = await session.scalars(
        select(Repeat).where(Repeat.ticket_id == ticket_id).order_by(Repeat.received_at, Repeat.id)
    )
    return rows.all()


@dataclass(frozen=True)
class TicketFilter:
    """An operator's search: every given condition must hold."""

    status: str | None = None
    channel: str | None = None
    category: str | None = None  # the node or anything under it
    area_code: str | None = None  # the area or anything inside it (codes nest: BJ01 ⊃ BJ0101)
    received_from: datetime | None = None
    received_to: datetime | None = None
    text: str | None = None  # in the title or the description
    cluster_id: str | None = None
    lead_unit_id: str | None = None
    citizen_index: str | None = None  # one caller's tickets (来电历史), by the blind index


async def list_tickets(
    session: AsyncSession, where: TicketFilter, *, limit: int = 50, offset: int = 0
) -> Sequence[Ticket]:
    """The tickets matching `where`, newest first."""
    query = (
        select(Ticket).order_by(Ticket.received_at.desc(), Ticket.id).limit(limit).offset(offset)
    )
    if where.status:
        query = query.where(Ticket.status == where.status)
    if where.lead_unit_id:
        query = query.where(Ticket.lead_unit_id == where.lead_unit_id)
    if where.channel:
        query = query.where(Ticket.channel == where.channel)
    if where.category:
        query = query.where(
            or_(Ticket.category == where.category, Ticket.category.startswith(where.category + "/"))
        )
    if where.area_code:
        query = query.where(Ticket.area_code.startswith(where.area_code))
    if where.received_from:
        query = query.where(Ticket.received_at >= where.received_from)
    if where.received_to:
        query = query.where(Ticket.received_at < where.received_to)
    if where.text:
        pattern = (
            "%" + where.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        query = query.where(
            or_(
                Ticket.title.like(pattern, escape="\\"),
                Ticket.description.like(pattern, escape="\\"),
            )
        )
    if where.cluster_id:
        query = query.where(Ticket.cluster_id == where.cluster_id)
    if where.citizen_index:
        query = query.where(Ticket.citizen_index == where.citizen_index)
    return (await session.scalars(query)).all()


async def ticket_for_citizen(session: AsyncSession, ticket_id: str, phone: str) -> Ticket:
    """The ticket, if `phone` is the one it was reported with (decrypted from its row). A wrong
    phone and an unknown number get the same answer, so a guesser learns nothing."""
    not_found = NotFound("No ticket matches this number and phone.", field="ticket_id")
    try:
        given = domain.normalize_phone(phone, field="phone")
    except InvalidInput:
        raise not_found from None
    ticket = await session.get(Ticket, ticket_id)
    stored = ticket.citizen_phone if ticket else None
    if ticket is None or not stored or not hmac.compare_digest(stored, given):
        raise not_found
    return ticket
