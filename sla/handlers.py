"""Events sla consumes."""

from __future__ import annotations

from shared.runtime import Handler
from sla import service

HANDLERS: dict[str, Handler] = {
    "ticket.dispatched": service.arm_clock,
    "assignment.signed": service.stop_stage,
    "assignment.contacted": service.stop_stage,
    "assignment.replied": service.stop_stage,
}
