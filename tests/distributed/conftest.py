"""The distributed run: five service processes, a PostgreSQL database each (fresh per test
run), and the tansu Kafka-protocol broker on a free port."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from services import SERVICE_NAMES
from services.stack import LocalStack, free_port
from tests.distributed.proxy import CuttableProxy
from tests.slice import Clients
from tests.support import require_broker, require_postgres


@pytest.fixture(scope="module")
def broker_link() -> Iterator[CuttableProxy]:
    """Services reach the broker through a proxy the tests can cut."""
    proxy = CuttableProxy(listen_port=free_port(), target_port=free_port())
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, broker_link: CuttableProxy
) -> Iterator[LocalStack]:
    require_postgres()
    require_broker()
    run_dir: Path = tmp_path_factory.mktemp("stack")
    s = LocalStack(
        run_dir=run_dir,
        prefix=f"hl_test_{uuid.uuid4().hex[:8]}",
        ports={name: free_port() for name in SERVICE_NAMES},
        broker_port=broker_link.target_port,
        advertised_port=broker_link.listen_port,
        load_demo=True,  # the demo directory (areas, units, catalogue); no sample tickets
        extra_env={
            "HOTLINE_OUTBOX_POLL_SECONDS": "0.2",
            "HOTLINE_CONSUMER_BACKOFF_SECONDS": "0.05",
        },
    )
    asyncio.run(s.create_databases())
    try:
        s.start_all()
        yield s
    finally:
        s.stop_all()
        asyncio.run(s.drop_databases())


@pytest.fixture
async def clients(stack: LocalStack) -> AsyncIterator[Clients]:
    made = {n: httpx.AsyncClient(base_url=stack.url(n), timeout=10) for n in SERVICE_NAMES}
    try:
        yield Clients(*(made[n] for n in ("intake", "routing", "sla", "callback", "analytics")))
    finally:
        for c in made.values():
            await c.aclose()
