"""A consumer's batch on PostgreSQL: the same tests as on SQLite (one transaction, one bulk inbox
claim with ON CONFLICT DO NOTHING ... RETURNING, all or nothing, repeats dropped, fresh reads
between handlers), run against a fresh database of their own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from services.stack import ADMIN_DSN
from shared.bus import EmbeddedBus, RetryPolicy
from shared.runtime import ServiceRuntime
from tests.support import require_postgres
from tests.unit.probe_consumer import AT, closed, create_tables, probe_runtime

# The runtime tests on SQLite, collected here too: with this module's `runtime` fixture they
# run on PostgreSQL.
from tests.unit.test_batch_delivery import (  # noqa: F401
    test_a_batch_is_one_transaction_with_one_inbox_claim,
    test_a_failing_event_rolls_its_whole_batch_back,
    test_a_redelivered_batch_and_a_repeat_within_a_batch_change_nothing,
    test_each_handler_reads_what_the_earlier_ones_in_the_batch_wrote,
    test_events_without_a_handler_are_skipped_and_not_claimed,
    test_the_inbox_claim_returns_only_events_not_claimed_before,
)


@pytest.fixture
async def database() -> AsyncIterator[str]:
    require_postgres()
    name = f"hl_test_batch_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def runtime(database: str, tmp_path: Path) -> AsyncIterator[ServiceRuntime]:
    bus = EmbeddedBus(tmp_path / "bus.db", RetryPolicy())  # the relay's bus; never started
    runtime = probe_runtime(database, bus, tmp_path)
    await create_tables(runtime)
    yield runtime
    await runtime.dispose()
    await bus.engine.dispose()


async def test_a_repeat_within_one_claim_is_claimed_once(runtime: ServiceRuntime) -> None:
    # One INSERT with the same key twice: DO NOTHING skips the second row, it does not fail.
    a = closed("a")
    async with runtime.sessionmaker() as session, session.begin():
        claimed = await runtime.spec.inbox.claim_all(
            session, consumer="probe", events=[(a.event_id, a.type)] * 2, now=AT
        )
    assert claimed == {a.event_id}
