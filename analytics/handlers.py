"""Events analytics consumes: all of the lifecycle, folded into fact rows, and routing's
directory and sla's calendar, kept as reference data (analytics.service.project)."""

from __future__ import annotations

from analytics import service
from shared.runtime import Handler

HANDLERS: dict[str, Handler] = {event_type: service.project for event_type in service.CONSUMED}
