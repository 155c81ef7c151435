"""sla on its own: one embedded service, fed lifecycle events directly, under a frozen clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.bootstrap import build_app
from shared.clock import FrozenClock
from shared.settings import PlatformSettings


@pytest.fixture
def sla_platform(tmp_path: Path) -> PlatformSettings:
    return PlatformSettings(
        data_dir=tmp_path / "data",
        load_demo=False,
        outbox_poll_seconds=0.1,
        consumer_backoff_seconds=0.01,
        consumer_max_attempts=3,
    )


@pytest.fixture
async def sla_app(sla_platform: PlatformSettings, clock: FrozenClock) -> AsyncIterator[FastAPI]:
    application = build_app(["sla"], platform=sla_platform, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def sla_client(sla_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sla_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sla") as c:
        yield c
