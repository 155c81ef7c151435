"""Events produced by intake."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from shared.events.envelope import Payload, event

# 咨询 求助 投诉 举报 建议 表扬
TicketKind = Literal["consultation", "help", "complaint", "report", "suggestion", "praise"]
# 马上办 快速办 研究办
Urgency = Literal["emergency", "ordinary", "complex"]


@event("ticket.received", version=1)
class TicketReceived(Payload):
    """A new ticket (受理). Carries no personal data: `citizen_ref` is a keyed pseudonym."""

    channel: str
    kind: TicketKind
    category: str
    urgency: Urgency
    title: str
    description: str
    area_code: str | None
    address: str | None
    citizen_ref: str | None
    anonymous: bool
    received_at: AwareDatetime
    answered: bool = False  # answered on the spot: never dispatched (see ticket.answered)


@event("ticket.answered", version=1)
class TicketAnswered(Payload):
    """An operator answered the request on the spot (在线解答/直接办结): it is closed at intake,
    never dispatched, and still called back."""

    answer: str
    answered_by: str  # the operator's staff id
