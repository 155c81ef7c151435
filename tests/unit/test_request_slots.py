"""Requests on a SQLite service take a slot before its one connection (ServiceRuntime
.request_slots), so that the relay and the consumers queue behind a few requests, not behind
every request in flight."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

from sqlalchemy import text

from shared.runtime import ServiceRuntime, session_dependency
from shared.settings import PlatformSettings


def _request(runtime: ServiceRuntime) -> Any:
    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(runtimes={"probe": runtime})))


async def test_at_most_the_slots_of_requests_wait_at_the_connection(
    runtime: ServiceRuntime,
) -> None:
    slots = PlatformSettings().sqlite_request_slots
    session_for = asynccontextmanager(session_dependency("probe"))
    inside, most = 0, 0
    release = asyncio.Event()

    async def request() -> None:
        nonlocal inside, most
        async with session_for(_request(runtime)) as session:
            inside += 1
            most = max(most, inside)
            await session.execute(text("SELECT 1"))
            await release.wait()
            inside -= 1

    requests = [asyncio.create_task(request()) for _ in range(slots * 4)]
    await asyncio.sleep(0.2)
    assert most == slots  # the others wait for a place, holding nothing
    release.set()
    await asyncio.gather(*requests)
