"""accounts: what the service is."""

from __future__ import annotations

from accounts.config import settings
from accounts.handlers import HANDLERS
from accounts.models import inbox, metadata, outbox
from accounts.router import router
from shared.runtime import ServiceSpec


def build() -> ServiceSpec:
    return ServiceSpec(
        name="accounts",
        router=router,
        metadata=metadata,
        outbox=outbox,
        inbox=inbox,
        settings=settings(),
        handlers=HANDLERS,
    )
