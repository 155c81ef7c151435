"""analytics: what the service is."""

from __future__ import annotations

from analytics.config import settings
from analytics.handlers import HANDLERS
from analytics.models import inbox, metadata, outbox
from analytics.router import router
from shared.runtime import ServiceSpec


def build() -> ServiceSpec:
    return ServiceSpec(
        name="analytics",
        router=router,
        metadata=metadata,
        outbox=outbox,
        inbox=inbox,
        settings=settings(),
        handlers=HANDLERS,
    )
