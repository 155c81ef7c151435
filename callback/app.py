"""callback: what the service is."""

from __future__ import annotations

from callback.config import settings
from callback.handlers import HANDLERS
from callback.models import inbox, metadata, outbox
from callback.router import router
from callback.service import gauges
from shared.runtime import ServiceSpec


def build() -> ServiceSpec:
    return ServiceSpec(
        name="callback",
        router=router,
        metadata=metadata,
        outbox=outbox,
        inbox=inbox,
        settings=settings(),
        handlers=HANDLERS,
        gauges=gauges,
    )
