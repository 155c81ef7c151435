"""Events analytics consumes: all of the lifecycle, folded into fact rows."""

from __future__ import annotations

from analytics import service
from shared.runtime import Handler

HANDLERS: dict[str, Handler] = {event_type: service.project for event_type in service.PROJECTED}
