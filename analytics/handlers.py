"""Events analytics consumes, by payload class: all of the lifecycle, folded into fact rows,
and routing's directory and sla's calendar, kept as reference data (analytics.service.project);
every other event is kept for the tickets' audit trail (analytics.audit.keep)."""

from __future__ import annotations

from analytics import audit, service
from shared.events import registered
from shared.runtime import Handlers

HANDLERS: Handlers = {
    **{
        model: audit.keep
        for model in registered().values()
        if not model.event_type.startswith("test.")
    },
    **{model: service.project for model in service.CONSUMED},
}
