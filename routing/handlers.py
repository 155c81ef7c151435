"""Events routing consumes."""

from __future__ import annotations

from routing import dispatching, rehandling, workflow
from shared.runtime import Handler

HANDLERS: dict[str, Handler] = {
    "ticket.received": dispatching.dispatch_received,
    "ticket.reopened": rehandling.reopen,
    # An assisting unit whose completion deadline breached no longer holds up the lead.
    "sla.breached": workflow.assistant_breached,
}
