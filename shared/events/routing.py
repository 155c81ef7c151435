"""Events produced by routing."""

from __future__ import annotations

from typing import Literal

from shared.events.envelope import Payload, event
from shared.events.intake import TicketKind, Urgency

AssignmentRole = Literal["lead", "assist"]  # 主办 / 协办
# 已解决 / 部分解决 / 无法解决(附理由与法定途径)
ReplyOutcome = Literal["solved", "partly_solved", "unsolvable"]


@event("ticket.dispatched", version=1)
class TicketDispatched(Payload):
    """A unit was given the ticket (派单), as lead or assisting unit."""

    assignment_id: str
    unit_id: str
    unit_name: str
    role: AssignmentRole
    kind: TicketKind
    urgency: Urgency
    rule_id: str | None
    catalogue_version: int | None
    dispatch_count: int
    round: int = 1  # 1 for first handling; 2, 3… for re-handling after a re-open (重办)


@event("assignment.signed", version=1)
class AssignmentSigned(Payload):
    """The unit signed for the ticket (签收)."""

    assignment_id: str
    unit_id: str
    role: AssignmentRole


@event("assignment.contacted", version=1)
class AssignmentContacted(Payload):
    """The unit made first contact with the citizen (首次联系): the response."""

    assignment_id: str
    unit_id: str
    role: AssignmentRole


@event("assignment.replied", version=1)
class AssignmentReplied(Payload):
    """The unit replied with its outcome (办结反馈)."""

    assignment_id: str
    unit_id: str
    role: AssignmentRole
    outcome: ReplyOutcome
    explanation: str


@event("ticket.replied", version=1)
class TicketReplied(Payload):
    """Handling of the ticket is complete: the lead replied (and its assistants are done)."""

    lead_assignment_id: str
    lead_unit_id: str
    outcome: ReplyOutcome
    explanation: str
    round: int = 1  # the handling round this reply closes


@event("assignment.extension_requested", version=1)
class ExtensionRequested(Payload):
    """The unit asks for more time (延期申请); sla's centre staff approve or refuse it."""

    request_id: str
    assignment_id: str
    unit_id: str
    requested_days: int  # working days added to the completion deadline
    reason: str


@event("assignment.returned", version=1)
class AssignmentReturned(Payload):
    """The unit returned a ticket that is not its own (退单), with a reason."""

    assignment_id: str
    unit_id: str
    reason_code: str
    explanation: str
