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


@event("ticket.repeat_linked", version=1)
class RepeatLinked(Payload):
    """The same citizen reported the same matter again (重复诉求) while the ticket (the envelope's
    `ticket_id`) is open: linked and counted, not a new ticket and never dispatched again."""

    repeat_id: str
    channel: str
    citizen_ref: str | None
    similarity: float
    repeat_count: int  # repeats linked to the ticket so far, this one included
    received_at: AwareDatetime


@event("ticket.cluster_flagged", version=1)
class ClusterFlaggedV1(Payload):
    """v1 (read only; no longer produced): carried the whole member list on every growth."""

    cluster_id: str
    ticket_ids: list[str]
    reporters: int
    category: str
    area_code: str | None


@event("ticket.cluster_flagged", version=2)
class ClusterFlagged(Payload):
    """Reports from `reporters` different people about one matter at one place (集中诉求), for
    supervision. Sent when the cluster forms and again, with the same `cluster_id`, as it grows;
    the envelope's `ticket_id` is the ticket that formed or grew it. `joined_ticket_ids` are the
    tickets that joined with this event (all founding members when it forms), `size` how many
    tickets the cluster has now: the event stays small however large the cluster grows."""

    cluster_id: str
    joined_ticket_ids: list[str]
    size: int
    reporters: int
    category: str
    area_code: str | None


@event("ticket.info_added", version=1)
class InfoAdded(Payload):
    """The citizen (mini-program) or an operator added information to an open ticket."""

    source: Literal["citizen", "operator"]
    text: str
    attachments: int = 0
