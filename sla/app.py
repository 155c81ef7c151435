"""sla: what the service is."""

from __future__ import annotations

from shared.runtime import Job, ServiceSpec
from sla.config import settings
from sla.handlers import HANDLERS
from sla.models import inbox, metadata, outbox
from sla.router import router
from sla.service import fire_due_timers


def build() -> ServiceSpec:
    return ServiceSpec(
        name="sla",
        router=router,
        metadata=metadata,
        outbox=outbox,
        inbox=inbox,
        settings=settings(),
        handlers=HANDLERS,
        jobs=[Job("fire_due_timers", settings().timer_tick_seconds, fire_due_timers)],
    )
