"""The poison event of the drills and of the replay tests: a citizen's addition
(`ticket.info_added`) for a ticket routing has never heard of. routing refuses it ("unknown
ticket") after its retries and dead-letters it; the fix is the event routing was missing, the
ticket's `ticket.received`, delivered late (as after a broker that lost it); then the dead letter
is replayed and applied once.

The ticket has no area and a category no catalogue rule covers, so routing keeps it in the
dispatcher's queue and publishes nothing for it (nothing else to follow, nothing for intake,
which never had it). Its id starts with `POISON-`, so the drills' audit leaves it out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from shared.events import Envelope
from shared.events.intake import InfoAdded, TicketReceived

PREFIX = "POISON-"


def ticket_id() -> str:
    return f"{PREFIX}{uuid.uuid4().hex[:12]}"


def addition(ticket: str, at: datetime | None = None) -> Envelope:
    payload = InfoAdded(source="citizen", text="补充：楼道里的灯也坏了，晚上看不见。")
    return Envelope(
        type=InfoAdded.event_type,
        version=InfoAdded.version,
        occurred_at=at or datetime.now(UTC),
        ticket_id=ticket,
        producer="intake",
        payload=payload.model_dump(mode="json"),
    )


def received(ticket: str, at: datetime | None = None) -> Envelope:
    at = at or datetime.now(UTC)
    payload = TicketReceived(
        channel="phone",
        kind="complaint",
        category="故障演练/毒事件",
        urgency="ordinary",
        title="故障演练：毒事件的工单",
        description="故障演练用工单：路由先收到补充诉求，后收到受理事件。",
        area_code=None,
        address=None,
        citizen_ref=None,
        anonymous=True,
        received_at=at,
    )
    return Envelope(
        type=TicketReceived.event_type,
        version=TicketReceived.version,
        occurred_at=at,
        ticket_id=ticket,
        producer="intake",
        payload=payload.model_dump(mode="json"),
    )
