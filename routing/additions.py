"""Citizens' additions to a ticket in hand (补充诉求): intake announces each one
(`ticket.info_added`), and each time the same citizen reports the same matter again while it is
open (重复诉求, `ticket.repeat_linked`); routing keeps them beside the ticket so every unit
handling it reads them with the ticket, and the centre sees what the units were told."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing.models import Addition, RoutedTicket
from shared.errors import NotFound
from shared.events import Event
from shared.events.intake import InfoAdded, RepeatLinked


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


async def record_repeat(session: AsyncSession, event: Event[RepeatLinked]) -> None:
    """On `ticket.repeat_linked`: the citizen asked again (催办 pressure on the units); shown
    with the additions, counted, never dispatched again."""
    if await session.get(RoutedTicket, event.ticket_id) is None:
        raise NotFound(f"ticket.repeat_linked for unknown ticket {event.ticket_id}")
    session.add(
        Addition(
            event_id=str(event.event_id),
            ticket_id=event.ticket_id,
            source="repeat",
            text=f"诉求人再次反映同一诉求（第{event.data.repeat_count}次重复）",
            attachments=0,
            added_at=event.occurred_at,
        )
    )


async def additions_of(session: AsyncSession, ticket_id: str) -> Sequence[Addition]:
    rows = await session.scalars(
        select(Addition).where(Addition.ticket_id == ticket_id).order_by(Addition.added_at)
    )
    return rows.all()
