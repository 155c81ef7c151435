"""sla: what the service is."""

from __future__ import annotations

from shared.runtime import Job, ServiceSpec
from sla.config import settings
from sla.handlers import HANDLERS
from sla.models import inbox, metadata, outbox
from sla.router import router
from sla.supervising import escalate_supervision
from sla.timer_engine import fire_due_timers, gauges


def build() -> ServiceSpec:
    tick = settings().timer_tick_seconds
    return ServiceSpec(
        name="sla",
        router=router,
        metadata=metadata,
        outbox=outbox,
        inbox=inbox,
        settings=settings(),
        handlers=HANDLERS,
        jobs=[
            Job("fire_due_timers", tick, fire_due_timers),
            Job("escalate_supervision", tick, escalate_supervision),
        ],
        gauges=gauges,
    )
