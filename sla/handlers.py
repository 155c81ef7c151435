"""Events sla consumes."""

from __future__ import annotations

from shared.runtime import Handler
from sla import service

HANDLERS: dict[str, Handler] = {
    "ticket.received": service.on_received,
    "ticket.cluster_flagged": service.on_cluster_flagged,
    "ticket.dispatched": service.arm_clock,
    "assignment.signed": service.stop_stage,
    "assignment.contacted": service.stop_stage,
    "assignment.replied": service.stop_stage,
    "assignment.returned": service.on_returned,
    "assignment.withdrawn": service.on_withdrawn,
    "assignment.extension_requested": service.on_extension_requested,
    "ticket.replied": service.on_ticket_replied,
    "ticket.reopened": service.on_reopened,
    "ticket.closed": service.on_closed,
}
