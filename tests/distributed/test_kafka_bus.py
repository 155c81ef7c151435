"""The Kafka bus against a real Kafka-protocol broker: ordering by ticket, retry, dead letters."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer

from services.stack import free_port, wait_for_port
from shared.bus import Lag
from shared.events import Envelope, new_event
from shared.events.callback import TicketClosed
from shared.kafka import KafkaBus
from shared.settings import PlatformSettings
from tests.support import eventually, require_broker

pytestmark = pytest.mark.broker
AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def broker() -> Iterator[str]:
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
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
async def settings(broker: str) -> AsyncIterator[PlatformSettings]:
    suffix = uuid.uuid4().hex[:6]
    yield PlatformSettings(
        kafka_bootstrap=broker,
        kafka_idempotent_producer=False,
        kafka_partitions=3,
        kafka_topic=f"lifecycle-{suffix}",
        kafka_dead_letter_topic=f"lifecycle-{suffix}.dlq",
        consumer_max_attempts=3,
        consumer_backoff_seconds=0.01,
    )


def closed(ticket: str, reason: str) -> Envelope:
    return new_event(TicketClosed(reason=reason), ticket_id=ticket, producer="test", occurred_at=AT)


async def test_failing_event_is_retried_then_dead_lettered_and_the_rest_flows(
    settings: PlatformSettings,
) -> None:
    attempts: dict[str, int] = {}  # deliveries of an event on its own (the retried ones)
    handled: list[tuple[str, str]] = []

    async def deliver(batch: Sequence[Envelope]) -> None:
        applied = []
        for e in batch:
            if len(batch) == 1:
                attempts[e.payload["reason"]] = attempts.get(e.payload["reason"], 0) + 1
            if e.payload["reason"] == "poison":
                raise ValueError("cannot handle this one")
            applied.append((e.ticket_id, e.payload["reason"]))
        handled.extend(applied)  # all or nothing, as in the service's one transaction

    bus = KafkaBus(settings, client_id="test")
    bus.subscribe("test-consumer", deliver)
    await bus.start()
    try:
        await bus.ping()
        await bus.publish(
            [
                closed("T1", "1"),
                closed("T1", "poison"),
                closed("T1", "2"),
                closed("T2", "a"),
                closed("T1", "3"),
            ]
        )

        async def all_good_handled() -> bool:
            return len(handled) == 4

        await eventually(all_good_handled, timeout=60, what="the good events")
    finally:
        await bus.stop()
    assert [r for t, r in handled if t == "T1"] == ["1", "2", "3"]  # per-ticket order kept
    assert attempts["poison"] == 3

    consumer = AIOKafkaConsumer(
        settings.kafka_dead_letter_topic,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id="dlq-reader",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:

        async def dead() -> list[object]:
            return [r for rs in (await consumer.getmany(timeout_ms=500)).values() for r in rs]

        (letter,) = await eventually(dead, timeout=30, what="the dead letter")
    finally:
        await consumer.stop()
    headers = {k: v.decode() for k, v in letter.headers}  # type: ignore[attr-defined]
    assert Envelope.from_json(letter.value).payload == {"reason": "poison"}  # type: ignore[attr-defined]
    assert headers["dlq.consumer"] == "test-consumer"
    assert headers["dlq.original.topic"] == settings.kafka_topic
    assert int(headers["dlq.original.offset"]) >= 0
    assert "cannot handle this one" in headers["dlq.error"]


async def test_committed_offsets_survive_a_restart_of_the_consumer(
    settings: PlatformSettings,
) -> None:
    seen: list[str] = []

    async def deliver(batch: Sequence[Envelope]) -> None:
        seen.extend(e.payload["reason"] for e in batch)

    first = KafkaBus(settings, client_id="first")
    first.subscribe("restarting", deliver)
    await first.start()
    await first.publish([closed("T1", "before")])

    async def got_before() -> bool:
        return seen == ["before"]

    await eventually(got_before, timeout=60, what="the first event")
    await first.stop()  # graceful: commits and leaves the group

    second = KafkaBus(settings, client_id="second")
    second.subscribe("restarting", deliver)
    await second.start()
    try:
        await second.publish([closed("T1", "after")])

        async def got_after() -> bool:
            return "after" in seen

        await eventually(got_after, timeout=60, what="the second event")
    finally:
        await second.stop()
    assert seen == ["before", "after"]  # nothing redelivered after a clean stop


async def test_lag_counts_what_a_consumer_has_not_handled_and_ping_asks_the_broker(
    settings: PlatformSettings, broker: str
) -> None:
    """Operators see a consumer's lag on the broker; the ping is a fresh metadata request."""
    gate = asyncio.Event()
    handled: list[str] = []

    async def deliver(batch: Sequence[Envelope]) -> None:
        await gate.wait()  # the consumer is stuck until the test lets it go
        handled.extend(e.payload["reason"] for e in batch)

    bus = KafkaBus(settings, client_id="lag-test")
    bus.subscribe("lagging", deliver)
    await bus.start()
    try:
        await bus.publish([closed(f"T{i}", str(i)) for i in range(6)])

        async def behind() -> Lag | None:
            lag = await bus.lag("lagging")
            return lag if lag.behind > 0 and lag.behind_seconds > 0.2 else None

        # Events the stuck consumer holds are behind, and the time behind grows.
        await eventually(behind, what="the lag to show")
        gate.set()

        async def caught_up() -> bool:
            return (await bus.lag("lagging")).behind == 0 and len(handled) == 6

        await eventually(caught_up, what="the consumer to catch up")
        assert (await bus.lag("lagging")).regressions == 0
        await bus.ping()
    finally:
        await bus.stop()
