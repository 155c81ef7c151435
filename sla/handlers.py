"""Events sla consumes, by payload class, and the use case each one drives."""

from __future__ import annotations

from shared.events.callback import TicketClosed, TicketReopened
from shared.events.intake import ClusterFlagged, ClusterFlaggedV1, TicketReceived
from shared.events.routing import (
    AssignmentContacted,
    AssignmentReplied,
    AssignmentReturned,
    AssignmentSigned,
    AssignmentWithdrawn,
    ExtensionRequested,
    TicketDispatched,
    TicketReplied,
)
from shared.runtime import Handlers
from sla import clocks, extensions, supervising

HANDLERS: Handlers = {
    TicketReceived: clocks.on_received,
    ClusterFlagged: supervising.on_cluster_flagged,
    ClusterFlaggedV1: supervising.on_cluster_flagged,  # older logs
    TicketDispatched: clocks.arm_clock,
    AssignmentSigned: clocks.stop_stage,
    AssignmentContacted: clocks.stop_stage,
    AssignmentReplied: clocks.stop_stage,
    AssignmentReturned: clocks.on_returned,
    AssignmentWithdrawn: clocks.on_withdrawn,
    ExtensionRequested: extensions.on_extension_requested,
    TicketReplied: clocks.on_ticket_replied,
    TicketReopened: clocks.on_reopened,
    TicketClosed: clocks.on_closed,
}
