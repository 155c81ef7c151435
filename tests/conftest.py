from __future__ import annotations

import os

# Tests drive sla's timer job explicitly with a frozen clock; the background tick stays out of it.
os.environ.setdefault("SLA_TIMER_TICK_SECONDS", "3600")

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.bootstrap import build_app
from shared.clock import FrozenClock
from shared.settings import PlatformSettings
from tests.support import MONDAY_10AM


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(MONDAY_10AM)


@pytest.fixture
def platform(tmp_path: Path) -> PlatformSettings:
    return PlatformSettings(
        data_dir=tmp_path / "data",
        load_demo=True,
        outbox_poll_seconds=0.1,
        consumer_backoff_seconds=0.01,
        consumer_max_attempts=3,
    )


@pytest.fixture
async def app(platform: PlatformSettings, clock: FrozenClock) -> AsyncIterator[FastAPI]:
    """All five services embedded in one app (SQLite + embedded bus), demo directory loaded
    but no sample tickets (the demo player starts only under `make run`)."""
    application = build_app(platform=platform.model_copy(update={"load_demo": False}), clock=clock)
    async with application.router.lifespan_context(application):
        from services import demo

        await demo.load_directory(application.state.runtimes)
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as c:
        yield c
