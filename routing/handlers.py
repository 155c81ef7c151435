"""Events routing consumes."""

from __future__ import annotations

from routing import service
from shared.runtime import Handler

HANDLERS: dict[str, Handler] = {
    "ticket.received": service.dispatch_received,
    "ticket.reopened": service.reopen,
    # An assisting unit whose completion deadline breached no longer holds up the lead.
    "sla.breached": service.assistant_breached,
}
