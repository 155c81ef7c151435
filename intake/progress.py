"""intake follows each ticket through the other services' events (跟踪办理进度): its status, lead
unit, expected completion and timeline, for operators, Open311 and the citizen."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake import domain
from intake.models import Ticket, TimelineEntry
from shared.clock import aware, china_time
from shared.errors import NotFound
from shared.events import Event, Payload
from shared.events.routing import TicketDispatched
from shared.events.sla import ClockStarted, ExtensionDecided

# The events that move the lead's expected completion time; every other one is progress.
DEADLINE_EVENTS = (ClockStarted, ExtensionDecided)


async def follow(session: AsyncSession, events: Sequence[Event[Payload]]) -> None:
    """Follow tickets through the other services' events (跟踪办理进度): status, lead unit,
    expected completion and timeline. A run of events at a time: one read of their tickets and
    one insert of their timeline lines, where one event at a time cost three statements each
    and about ten events come for every ticket."""
    ids = sorted({e.ticket_id for e in events})
    tickets = {t.id: t for t in (await session.scalars(select(Ticket).where(Ticket.id.in_(ids))))}
    lines = []
    for event in events:
        ticket = tickets.get(event.ticket_id)
        if ticket is None:
            raise NotFound(f"event {event.type} for unknown ticket {event.ticket_id}")
        record = _record_deadline if isinstance(event.data, DEADLINE_EVENTS) else _record_progress
        text = record(ticket, event)
        if text is not None:
            lines.append(
                {
                    "ticket_id": ticket.id,
                    "at": event.occurred_at,
                    "event_type": event.type,
                    "text": text,
                }
            )
    if lines:
        await session.execute(insert(TimelineEntry), lines)


def _record_progress(ticket: Ticket, event: Event[Payload]) -> str:
    """The ticket's status and lead unit after `event`; its timeline line."""
    status, text = domain.progress(event.data)
    if isinstance(event.data, TicketDispatched) and event.data.role == "lead":
        ticket.lead_unit_id = event.data.unit_id
        ticket.lead_unit_name = event.data.unit_name
        ticket.lead_assignment_id = event.data.assignment_id
    if status and domain.moves_forward(ticket.status, status):
        ticket.status = status
    ticket.updated_at = max(aware(ticket.updated_at), event.occurred_at)
    return text


def _record_deadline(ticket: Ticket, event: Event[Payload]) -> str | None:
    """Keep the lead's completion deadline, for Open311's `expected_datetime` and the citizen
    (`sla.clock_started`, and `sla.extension_decided` when an extension moves it); the
    timeline line, if the citizen is told."""
    data = event.data
    assert isinstance(data, DEADLINE_EVENTS)
    if data.assignment_id != ticket.lead_assignment_id:
        return None  # an assisting unit's clock: not the citizen's expected time
    if isinstance(data, ClockStarted):
        ticket.expected_at = data.complete_by
        if data.reason != "extended":
            return None
        return f"办理期限已延长，预计{china_time(ticket.expected_at):%m月%d日%H:%M}前办结"
    if data.ticket_complete_by is not None:
        ticket.expected_at = data.ticket_complete_by
    return "承办单位延期申请已批准" if data.approved else "承办单位延期申请未获批准"
