"""Batches on the Kafka bus, against the real tansu broker, into a consumer on real SQLite: each
partition's records from one fetch are one transaction and one offset commit; a poison record
mid-batch is dead-lettered and the rest applied once; a crash between the transaction and the
commit redelivers the batch, and the inbox drops it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.events import Envelope
from shared.kafka import KafkaBus
from shared.runtime import ServiceRuntime
from shared.settings import PlatformSettings
from tests.distributed.test_kafka_bus import broker as broker  # the fixture
from tests.distributed.test_kafka_bus import settings as settings  # the fixture
from tests.support import eventually
from tests.unit.probe_consumer import Recorder, applied, closed, create_tables, probe_runtime

pytestmark = pytest.mark.broker


class Crash(Exception):
    """The consumer process dies here."""


@pytest.fixture
async def runtime(tmp_path: Path, settings: PlatformSettings) -> AsyncIterator[ServiceRuntime]:
    bus = KafkaBus(settings, client_id="unused")  # the relay's bus; the tests never start it
    runtime = probe_runtime(f"sqlite+aiosqlite:///{tmp_path / 'probe.db'}", bus, tmp_path)
    await create_tables(runtime)
    yield runtime
    await runtime.dispose()


@pytest.fixture
def commits(monkeypatch: pytest.MonkeyPatch) -> list[dict[TopicPartition, int]]:
    """Every offset commit any consumer makes, as it makes it."""
    made: list[dict[TopicPartition, int]] = []
    commit = AIOKafkaConsumer.commit

    async def recording(self: AIOKafkaConsumer, offsets: Any = None) -> None:
        made.append(dict(offsets))
        await commit(self, offsets)

    monkeypatch.setattr(AIOKafkaConsumer, "commit", recording)
    return made


async def produce(settings: PlatformSettings, events: list[Envelope]) -> None:
    """Publish before any consumer of the group runs, so its first fetch finds them all."""
    producer = KafkaBus(settings, client_id="producer")
    await producer.start()
    try:
        await producer.publish(events)
    finally:
        await producer.stop()


async def consume(
    settings: PlatformSettings, deliver: Recorder, until: Any, what: str
) -> list[Envelope]:
    bus = KafkaBus(settings, client_id="consumer")
    bus.subscribe("probe", deliver, batch_size=settings.consumer_batch_size)
    await bus.start()
    try:
        return await eventually(until, timeout=60, what=what)  # type: ignore[no-any-return]
    finally:
        await bus.stop()


async def test_queued_records_arrive_in_batches_with_one_commit_per_partition_batch(
    settings: PlatformSettings,
    runtime: ServiceRuntime,
    commits: list[dict[TopicPartition, int]],
) -> None:
    events = [closed(f"{t}-{i}", ticket=t) for i in range(20) for t in ("T1", "T2", "T3")]
    await produce(settings, events)
    recorder = Recorder(runtime.deliver_batch)

    async def all_applied() -> bool:
        return len(await applied(runtime)) == len(events)

    await consume(settings, recorder, all_applied, "every record")
    assert max(len(call) for call in recorder.calls) > 1
    assert len(commits) == len(recorder.calls) < len(events)  # one commit per batch
    assert all(len(c) == 1 for c in commits)  # each for one partition
    done = await applied(runtime)
    for t in ("T1", "T2", "T3"):  # per-ticket order kept, each applied once
        assert [r for r in done if r.startswith(t)] == [f"{t}-{i}" for i in range(20)]


async def test_a_poison_record_mid_batch_is_dead_lettered_and_the_rest_applied_once(
    settings: PlatformSettings,
    runtime: ServiceRuntime,
) -> None:
    good = ["1", "2", "4", "5", "6"]
    await produce(settings, [closed(r) for r in ["1", "2", "poison", "4", "5", "6"]])
    recorder = Recorder(runtime.deliver_batch)

    async def good_applied() -> bool:
        return await applied(runtime) == good

    await consume(settings, recorder, good_applied, "the good records")
    assert await applied(runtime) == good  # once each, in order
    batch = next(call for call in recorder.calls if "poison" in call)
    assert len(batch) > 1, "the poison record never came in a batch"
    alone = [call for call in recorder.calls if call == ["poison"]]
    assert len(alone) == settings.consumer_max_attempts  # retried alone, then dead-lettered

    reader = AIOKafkaConsumer(
        settings.kafka_dead_letter_topic,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id="dlq-reader",
        auto_offset_reset="earliest",
    )
    await reader.start()
    try:

        async def dead() -> list[Any]:
            return [r for rs in (await reader.getmany(timeout_ms=500)).values() for r in rs]

        (letter,) = await eventually(dead, timeout=30, what="the dead letter")
    finally:
        await reader.stop()
    headers = {k: v.decode() for k, v in letter.headers}
    assert Envelope.from_json(letter.value).payload == {"reason": "poison"}
    assert "poison event" in headers["dlq.error"]


async def test_a_crash_between_the_transaction_and_the_commit_changes_nothing(
    settings: PlatformSettings,
    runtime: ServiceRuntime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = [closed(str(i)) for i in range(5)]
    await produce(settings, first)

    async def die_before_committing(self: AIOKafkaConsumer, offsets: Any = None) -> None:
        raise Crash

    with monkeypatch.context() as patched:
        patched.setattr(AIOKafkaConsumer, "commit", die_before_committing)
        crashed = KafkaBus(settings, client_id="crashing")
        crashed.subscribe("probe", runtime.deliver_batch)
        await crashed.start()
        try:

            async def transaction_committed() -> bool:
                return await applied(runtime) == ["0", "1", "2", "3", "4"]

            await eventually(transaction_committed, timeout=60, what="the first transaction")
        finally:
            await crashed.stop()  # whatever it did next, its commit never reached the broker

    # The group starts over from its last commit (none): the batch comes again.
    await produce(settings, [closed("5")])
    recorder = Recorder(runtime.deliver_batch)

    async def caught_up() -> bool:
        return "5" in await applied(runtime)

    await consume(settings, recorder, caught_up, "the restarted consumer")
    assert [r for call in recorder.calls for r in call][:5] == ["0", "1", "2", "3", "4"]
    assert await applied(runtime) == ["0", "1", "2", "3", "4", "5"]
