"""Additions to an open ticket (补充诉求): what the citizen adds in the mini-program, or an
operator adds for them from a call, joins the ticket's record and timeline and is announced
(`ticket.info_added`) to the units handling it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from intake import domain
from intake.config import settings
from intake.models import AddedInfo, Ticket, TimelineEntry, outbox
from intake.schemas import AttachmentIn
from shared.errors import Conflict
from shared.events.intake import InfoAdded
from shared.redaction import redact


async def add_info(
    session: AsyncSession,
    ticket: Ticket,
    *,
    source: Literal["citizen", "operator"],
    text: str,
    attachments: Sequence[AttachmentIn],
    now: datetime,
) -> AddedInfo:
    """The citizen (`source` "citizen") or an operator adds information to an open ticket
    (补充诉求); a ticket answered on the spot or closed takes none."""
    if ticket.status not in domain.STATUS_OPEN:
        raise Conflict(
            f"Ticket '{ticket.id}' is {domain.STATUS_TEXT[ticket.status]}: information can be "
            "added only while it is open.",
            allowed_actions=[],
        )
    items = [a.model_dump(exclude_none=True) for a in attachments]
    domain.check_attachments(items, settings().attachment_rules())
    info = AddedInfo(ticket_id=ticket.id, source=source, text=text, attachments=items, at=now)
    session.add(info)
    who = "诉求人" if source == "citizen" else "话务员"
    session.add(
        TimelineEntry(
            ticket_id=ticket.id,
            at=now,
            event_type="ticket.info_added",
            text=f"{who}补充信息：{text}",
        )
    )
    ticket.updated_at = now
    await outbox.emit(
        session,
        # Redacted (脱敏) like every text that leaves intake; the record keeps the original.
        InfoAdded(source=source, text=redact(text, [ticket.citizen_name]), attachments=len(items)),
        ticket_id=ticket.id,
        occurred_at=now,
    )
    return info
