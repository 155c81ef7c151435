"""The outbox relay on PostgreSQL: the relay tests of tests/unit/test_outbox_relay.py on a
fresh database, one relay at a time across replicas (a session-level advisory lock on the
relay's own connection), and a real broker paused with SIGSTOP while the relay publishes."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

from services.stack import free_port, wait_for_port
from shared.db import create_engine
from shared.events import Envelope
from shared.kafka import KafkaBus
from shared.outbox import OutboxRelay
from shared.runtime import ServiceRuntime
from shared.settings import PlatformSettings
from tests.distributed.test_batch_postgres import database, runtime  # noqa: F401
from tests.support import eventually, require_broker
from tests.unit.probe_consumer import applied, claimed

# The SQLite relay tests, collected here too: with the imported `runtime` fixture they run on
# PostgreSQL, where they also look at pg_stat_activity and the advisory lock.
from tests.unit.test_outbox_relay import (  # noqa: F401
    HangingBus,
    assert_nothing_held,
    emit,
    make_relay,
    test_a_crash_between_publishing_and_marking_publishes_again_and_the_inbox_drops_it,
    test_a_failed_mark_is_retried_without_publishing_again,
    test_a_hung_bus_holds_no_connection_and_gets_the_batch_once,
    test_a_refused_batch_is_read_and_published_again,
    unpublished,
)

pytestmark = pytest.mark.postgres


async def test_one_replica_relays_at_a_time(runtime: ServiceRuntime, database: str) -> None:  # noqa: F811
    bus = HangingBus()
    first = make_relay(runtime, bus)
    second_engine = create_engine(database)  # another replica: its own engine and pool
    second = OutboxRelay(
        runtime.spec.outbox,
        second_engine,
        bus,  # type: ignore[arg-type]
        runtime.clock,
        publish_timeout=0.2,
    )
    try:
        await emit(runtime, "a", "b")
        assert await first.publish_pending() == 2
        await emit(runtime, "c")
        assert await second.publish_pending() == 0  # the first holds the lock
        assert (first.leading, second.leading) == (True, False)
        assert await first.publish_pending() == 1

        # The connection holding the lock (the first replica's) breaks, and the lock goes
        # with it: the second takes over.
        admin = await asyncpg.connect(database.replace("+asyncpg", ""))
        try:
            ended = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                "WHERE locktype = 'advisory' AND granted AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        finally:
            await admin.close()
        assert ended == 1
        await emit(runtime, "d")
        assert await second.publish_pending() == 1
        assert second.leading
        with pytest.raises(Exception):  # noqa: B017 - whatever the driver says of a dead link
            await first.publish_pending()
        assert not first.leading
        assert await first.publish_pending() == 0  # reconnected; the lock is the second's now
        assert bus.reasons() == ["a", "b", "c", "d"]
    finally:
        await first.stop()
        await second.stop()
        await second_engine.dispose()


# ---- a real broker, paused --------------------------------------------------------------


@pytest.fixture(scope="module")
def broker() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A broker of this module's own, so that pausing it disturbs no other test."""
    binary = require_broker()
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [binary, "broker", "--listener-url", url, "--advertised-listener-url", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"127.0.0.1:{port}", process
    finally:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        process.wait(10)


@pytest.fixture
async def kafka(broker: tuple[str, subprocess.Popen[bytes]]) -> AsyncIterator[KafkaBus]:
    suffix = uuid.uuid4().hex[:6]
    bus = KafkaBus(
        PlatformSettings(
            kafka_bootstrap=broker[0],
            kafka_idempotent_producer=False,
            kafka_partitions=3,
            kafka_topic=f"relay-{suffix}",
            kafka_dead_letter_topic=f"relay-{suffix}.dlq",
        ),
        client_id="relay-test",
    )
    await bus.start()
    yield bus
    await bus.stop()


async def topic_events(bus: KafkaBus, expected: int) -> list[Envelope]:
    consumer = AIOKafkaConsumer(
        bus.topic, bootstrap_servers=bus.bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[Envelope] = []
    try:

        async def all_read() -> bool:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found.extend(Envelope.from_json(r.value) for r in records)
            return len(found) >= expected

        await eventually(all_read, timeout=60, what=f"{expected} events on the topic")
        await asyncio.sleep(1)  # anything sent twice would arrive by now
        for records in (await consumer.getmany(timeout_ms=500)).values():
            found.extend(Envelope.from_json(r.value) for r in records)
    finally:
        await consumer.stop()
    return found


@pytest.mark.broker
async def test_a_paused_broker_holds_no_transaction_and_everything_is_published_once(
    runtime: ServiceRuntime,  # noqa: F811
    kafka: KafkaBus,
    broker: tuple[str, subprocess.Popen[bytes]],
) -> None:
    process = broker[1]
    relay = OutboxRelay(
        runtime.spec.outbox,
        runtime.engine,
        kafka,
        runtime.clock,
        poll_seconds=0.1,
        batch_size=50,
        publish_timeout=1.0,
    )
    await relay.start()
    try:
        await emit(runtime, *(f"before-{i}" for i in range(5)))
        await eventually(lambda: _none_left(runtime), timeout=30, what="the first events published")

        process.send_signal(signal.SIGSTOP)  # the broker hangs: connections stay open
        try:
            slowest = 0.0
            for i in range(20):  # the service goes on accepting, each write its own transaction
                started = time.monotonic()
                await emit(runtime, f"paused-{i}")
                slowest = max(slowest, time.monotonic() - started)
                await asyncio.sleep(0.15)
            await asyncio.sleep(2)  # a few of the relay's timeouts
            await assert_nothing_held(runtime, relay)
            assert await unpublished(runtime) == 20
            assert slowest < 2.0
        finally:
            process.send_signal(signal.SIGCONT)

        await eventually(lambda: _none_left(runtime), timeout=90, what="the held events published")
        events = await topic_events(kafka, 25)
    finally:
        await relay.stop()

    reasons = [e.payload["reason"] for e in events]
    expected = [f"before-{i}" for i in range(5)] + [f"paused-{i}" for i in range(20)]
    assert sorted(reasons) == sorted(expected)  # each once on the topic: nothing sent twice
    assert [r for r in reasons if r.startswith("paused")] == expected[5:]  # in order (one key)
    await runtime.deliver_batch(events)
    assert await applied(runtime) == expected
    assert await claimed(runtime) == 25


async def _none_left(runtime: ServiceRuntime) -> bool:  # noqa: F811
    return await unpublished(runtime) == 0
