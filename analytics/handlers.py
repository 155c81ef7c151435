"""Events analytics consumes, by payload class, each a run at a time (`TakesRuns`): all of
the lifecycle, folded into fact rows, and routing's directory and sla's calendar, kept as
reference data (analytics.consumer.project); every other event is kept for the tickets' audit
trail (analytics.audit.keep)."""

from __future__ import annotations

from analytics import audit, consumer, service
from shared.events import registered
from shared.runtime import Handlers, TakesRuns

PROJECT = TakesRuns(consumer.project)

HANDLERS: Handlers = {
    **{
        model: audit.keep
        for model in registered().values()
        if not model.event_type.startswith("test.")
    },
    **{model: PROJECT for model in service.CONSUMED},
}
