"""analytics: what the service is."""

from __future__ import annotations

from fastapi import APIRouter

from analytics import audit
from analytics.config import settings
from analytics.handlers import HANDLERS
from analytics.models import inbox, metadata, outbox
from analytics.router import router
from shared.runtime import ServiceSpec


def build() -> ServiceSpec:
    routes = APIRouter()
    routes.include_router(router)
    routes.include_router(audit.router)
    return ServiceSpec(
        name="analytics",
        router=routes,
        metadata=metadata,
        outbox=outbox,
        inbox=inbox,
        settings=settings(),
        handlers=HANDLERS,
    )
