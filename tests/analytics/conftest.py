"""analytics' tests start from the demo city's directory, fed as routing's events."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from tests.analytics.streams import deliver, demo_directory


@pytest.fixture
async def app(app: FastAPI) -> FastAPI:
    await deliver(app, demo_directory())
    return app
