"""Citizens' additions to a ticket in hand (补充诉求): intake announces each one
(`ticket.info_added`); routing keeps them beside the ticket so every unit handling it reads them
with the ticket, and the centre sees what the units were told."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing.models import Addition, RoutedTicket
from shared.errors import NotFound
from shared.events import Event
from shared.events.intake import InfoAdded


async def record_addition(session: AsyncSession, event: Event[InfoAdded]) -> None:
    """On `ticket.info_added`: keep the addition with the ticket (intake has already redacted
    the text for everyone but its operators)."""
    if await session.get(RoutedTicket, event.ticket_id) is None:
        raise NotFound(f"ticket.info_added for unknown ticket {event.ticket_id}")
    session.add(
        Addition(
            event_id=str(event.event_id),
            ticket_id=event.ticket_id,
            source=event.data.source,
            text=event.data.text,
            attachments=event.data.attachments,
            added_at=event.occurred_at,
        )
    )


async def additions_of(session: AsyncSession, ticket_id: str) -> Sequence[Addition]:
    rows = await session.scalars(
        select(Addition).where(Addition.ticket_id == ticket_id).order_by(Addition.added_at)
    )
    return rows.all()
