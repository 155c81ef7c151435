"""Events intake consumes: it follows each ticket's progress for its status and timeline."""

from __future__ import annotations

from intake import service
from shared.runtime import Handler

HANDLERS: dict[str, Handler] = {
    event_type: service.record_progress
    for event_type in (
        "ticket.dispatched",
        "assignment.signed",
        "assignment.contacted",
        "ticket.replied",
        "sla.breached",
        "callback.completed",
        "ticket.closed",
        "ticket.reopened",
        "ticket.key_supervision",
        "ticket.supervised",
        "whistle.blown",
        "ticket.ownership_determined",
    )
}
HANDLERS["sla.clock_started"] = service.record_deadline
HANDLERS["sla.extension_decided"] = service.record_deadline
