"""Events analytics consumes, by payload class, all through one run handler (`TakesRuns`), so
a consumer batch is one call: the lifecycle is folded into fact rows, routing's directory and
sla's calendar are kept as reference data, and every other event (`KEPT_ONLY`) is only kept for
the tickets' audit trail (analytics.audit) — all of them stored once per run
(analytics.consumer.project)."""

from __future__ import annotations

from analytics import consumer, service
from shared.events import Payload, registered
from shared.runtime import Handlers, TakesRuns

PROJECT = TakesRuns(consumer.project)

# Kept for the trail, folded into no figure.
KEPT_ONLY: frozenset[type[Payload]] = frozenset(
    model
    for model in registered().values()
    if not model.event_type.startswith("test.") and model not in service.CONSUMED
)

HANDLERS: Handlers = {model: PROJECT for model in (*service.CONSUMED, *KEPT_ONLY)}
