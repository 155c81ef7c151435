"""routing: what the service is."""

from __future__ import annotations

from routing.config import settings
from routing.handlers import HANDLERS
from routing.models import inbox, metadata, outbox
from routing.router import router
from shared.runtime import ServiceSpec


def build() -> ServiceSpec:
    return ServiceSpec(
        name="routing",
        router=router,
        metadata=metadata,
        outbox=outbox,
        inbox=inbox,
        settings=settings(),
        handlers=HANDLERS,
    )
