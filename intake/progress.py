"""intake follows each ticket through the other services' events (跟踪办理进度): its status, lead
unit, expected completion and timeline, for operators, Open311 and the citizen."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake import domain
from intake.models import Ticket, TimelineEntry
from shared.clock import aware, china_time
from shared.errors import NotFound
from shared.events import Envelope

# The events that move the lead's expected completion time; every other one is progress.
DEADLINE_EVENTS = frozenset({"sla.clock_started", "sla.extension_decided"})


async def follow(session: AsyncSession, events: Sequence[Envelope]) -> None:
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
        record = _record_deadline if event.type in DEADLINE_EVENTS else _record_progress
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


def _record_progress(ticket: Ticket, event: Envelope) -> str:
    """The ticket's status and lead unit after `event`; its timeline line."""
    payload: Mapping[str, Any] = event.payload
    status, text = domain.progress(event.type, payload)
    if event.type == "ticket.dispatched" and payload["role"] == "lead":
        ticket.lead_unit_id = payload["unit_id"]
        ticket.lead_unit_name = payload["unit_name"]
        ticket.lead_assignment_id = payload["assignment_id"]
    if status and domain.moves_forward(ticket.status, status):
        ticket.status = status
    ticket.updated_at = max(aware(ticket.updated_at), event.occurred_at)
    return text


def _record_deadline(ticket: Ticket, event: Envelope) -> str | None:
    """Keep the lead's completion deadline, for Open311's `expected_datetime` and the citizen
    (`sla.clock_started`, and `sla.extension_decided` when an extension moves it); the
    timeline line, if the citizen is told."""
    payload: Mapping[str, Any] = event.payload
    if payload.get("assignment_id") != ticket.lead_assignment_id:
        return None  # an assisting unit's clock: not the citizen's expected time
    if event.type == "sla.clock_started":
        ticket.expected_at = datetime.fromisoformat(payload["complete_by"])
        if payload.get("reason") != "extended":
            return None
        return f"办理期限已延长，预计{china_time(ticket.expected_at):%m月%d日%H:%M}前办结"
    if payload.get("ticket_complete_by"):
        ticket.expected_at = datetime.fromisoformat(payload["ticket_complete_by"])
    return "承办单位延期申请已批准" if payload.get("approved") else "承办单位延期申请未获批准"
