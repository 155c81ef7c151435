"""The probe consumer on a real embedded bus, for the tests of batches, lag and failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.bus import EmbeddedBus
from shared.runtime import ServiceRuntime
from tests.unit.probe_consumer import RETRY, create_tables, probe_runtime


@pytest.fixture
async def bus(tmp_path: Path) -> AsyncIterator[EmbeddedBus]:
    bus = EmbeddedBus(tmp_path / "bus.db", RETRY, poll_seconds=0.05)
    yield bus
    await bus.stop()


@pytest.fixture
async def runtime(tmp_path: Path, bus: EmbeddedBus) -> AsyncIterator[ServiceRuntime]:
    runtime = probe_runtime(f"sqlite+aiosqlite:///{tmp_path / 'probe.db'}", bus, tmp_path)
    await create_tables(runtime)
    yield runtime
    await runtime.dispose()
