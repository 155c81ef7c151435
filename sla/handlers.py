"""Events sla consumes, by payload class, and the use case each one drives: receipts,
dispatches and cluster flags, most of its events, a run at a time (sla/arming.py)."""

from __future__ import annotations

from shared.events.callback import TicketClosed, TicketReopened
from shared.events.routing import (
    AssignmentContacted,
    AssignmentReplied,
    AssignmentReturned,
    AssignmentSigned,
    AssignmentWithdrawn,
    ExtensionRequested,
    TicketReplied,
)
from shared.runtime import Handlers
from sla import arming, clocks, extensions

HANDLERS: Handlers = {
    **{model: arming.ARM for model in arming.ARMING},
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
