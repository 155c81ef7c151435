"""Events sla consumes, and the use case each one drives."""

from __future__ import annotations

from shared.runtime import Handler
from sla import clocks, extensions, supervising

HANDLERS: dict[str, Handler] = {
    "ticket.received": clocks.on_received,
    "ticket.cluster_flagged": supervising.on_cluster_flagged,
    "ticket.dispatched": clocks.arm_clock,
    "assignment.signed": clocks.stop_stage,
    "assignment.contacted": clocks.stop_stage,
    "assignment.replied": clocks.stop_stage,
    "assignment.returned": clocks.on_returned,
    "assignment.withdrawn": clocks.on_withdrawn,
    "assignment.extension_requested": extensions.on_extension_requested,
    "ticket.replied": clocks.on_ticket_replied,
    "ticket.reopened": clocks.on_reopened,
    "ticket.closed": clocks.on_closed,
}
