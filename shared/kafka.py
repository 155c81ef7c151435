"""The distributed bus on aiokafka.

Producer: `acks=all`, idempotent where the broker supports it (a setting), key = ticket id so
each ticket's events share a partition and keep their order. Consumers: group = service name,
auto-commit off; each partition's records from one fetch are applied as one batch (one
transaction in the service) and the offset committed once, after that transaction committed.
A failing batch is applied again one record at a time: a failing event is retried with backoff
(blocking its partition, which keeps per-ticket order) and then sent to the dead-letter topic
with its origin and error in the headers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, KafkaError, TopicAlreadyExistsError

from shared import metrics
from shared.bus import CaughtUp, Deliver, Lag, RetryPolicy, apply_batch, parse_batch, stop_tasks
from shared.events import Envelope
from shared.settings import DEFAULT_CONSUMER_BATCH_SIZE, PlatformSettings

log = logging.getLogger(__name__)


class KafkaBus:
    def __init__(self, settings: PlatformSettings, client_id: str) -> None:
        assert settings.kafka_bootstrap, "KafkaBus needs HOTLINE_KAFKA_BOOTSTRAP"
        self.bootstrap = settings.kafka_bootstrap
        self.topic = settings.kafka_topic
        self.dead_letter_topic = settings.kafka_dead_letter_topic
        self.settings = settings
        self.client_id = client_id
        self.retry = RetryPolicy(settings.consumer_max_attempts, settings.consumer_backoff_seconds)
        self._subscribers: dict[str, tuple[Deliver, int]] = {}
        self._consumers: list[AIOKafkaConsumer] = []
        self._by_group: dict[str, AIOKafkaConsumer] = {}
        self._caught_up = CaughtUp()
        self._tasks: list[asyncio.Task[None]] = []
        self._producer: AIOKafkaProducer | None = None
        self._topics_ready = False
        self._stopping = asyncio.Event()

    def subscribe(
        self, consumer: str, deliver: Deliver, *, batch_size: int = DEFAULT_CONSUMER_BATCH_SIZE
    ) -> None:
        self._subscribers[consumer] = (deliver, batch_size)

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            client_id=self.client_id,
            acks="all",
            enable_idempotence=self.settings.kafka_idempotent_producer,
            linger_ms=5,
        )
        await self._producer.start()
        await self._ensure_topics()
        for group, (deliver, batch_size) in self._subscribers.items():
            consumer = AIOKafkaConsumer(
                self.topic,
                bootstrap_servers=self.bootstrap,
                client_id=f"{self.client_id}-{group}",
                group_id=group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
            )
            await consumer.start()
            self._consumers.append(consumer)
            self._by_group[group] = consumer
            self._caught_up.now(group)  # behind, from here on, is measured from the start
            self._tasks.append(
                asyncio.create_task(
                    self._consume(group, consumer, deliver, batch_size), name=f"kafka-{group}"
                )
            )

    async def stop(self) -> None:
        """Graceful: finish the batch in hand, commit, leave the group, flush the producer."""
        self._stopping.set()
        await stop_tasks(self._tasks, finish_seconds=10)
        for consumer in self._consumers:
            await consumer.stop()
        if self._producer:
            await self._producer.stop()
        self._tasks.clear()
        self._consumers.clear()
        self._by_group.clear()

    async def _ensure_topics(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=self.client_id)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            wanted = [
                NewTopic(
                    name, self.settings.kafka_partitions, self.settings.kafka_replication_factor
                )
                for name in (self.topic, self.dead_letter_topic)
                if name not in existing
            ]
            if wanted:
                try:
                    await admin.create_topics(wanted)
                except TopicAlreadyExistsError:
                    pass  # another service created it first
        finally:
            await admin.close()
        self._topics_ready = True

    async def publish(self, events: Sequence[Envelope]) -> None:
        assert self._producer is not None, "bus not started"
        if not self._topics_ready:
            await self._ensure_topics()  # e.g. a broker that came back empty
        try:
            futures = [
                await self._producer.send(
                    self.topic,
                    value=e.to_json(),
                    key=e.ticket_id.encode(),
                    headers=[("type", e.type.encode()), ("version", str(e.version).encode())],
                )
                for e in events
            ]
            await asyncio.gather(*futures)
        except KafkaError:
            self._topics_ready = False
            raise

    async def ping(self) -> None:
        """A fresh metadata round trip to the broker. The cached metadata and an open
        connection answered while a hung broker (paused, cut off) served nothing: readiness
        stayed green through a 60 s outage in the fault drills (docs/faults.md)."""
        assert self._producer is not None, "bus not started"
        metadata = await asyncio.wait_for(self._producer.client.fetch_all_metadata(), timeout=3)
        if self.topic not in metadata.topics():
            raise ConnectionError(f"topic {self.topic} is missing from the broker")

    def consumers(self) -> list[str]:
        return list(self._subscribers)

    async def lag(self, consumer: str) -> Lag:
        """Events after the group's committed offsets on this member's partitions. A partition
        whose log ends before the committed offset, or a topic gone from the broker, is a
        regression: the broker lost acknowledged events, which no consumer can recover by
        itself; it is logged as an error and counted, never skipped silently."""
        member = self._by_group.get(consumer)
        if member is None:
            return Lag(0, 0.0)
        if member.partitions_for_topic(self.topic) is None:
            log.error("%s: topic %s is missing from the broker", consumer, self.topic)
            return self._caught_up.lag(consumer, 0, regressions=1)
        partitions = list(member.assignment())
        unfetched = [tp for tp in partitions if member.highwater(tp) is None]
        ends = await member.end_offsets(unfetched) if unfetched else {}
        behind, regressions = 0, 0
        for tp in partitions:
            committed = await member.committed(tp) or 0
            # The high watermark of the partition's last fetch response, else ListOffsets: the
            # test broker (tansu) answers ListOffsets with offsets short of its log's end,
            # which read as lost events; every fetch answers the log's true end, also right
            # after a broker lost its log.
            highwater = member.highwater(tp)
            end = highwater if highwater is not None else ends[tp]
            if end < committed:
                regressions += 1
                log.error(
                    "%s: %s[%d] ends at offset %d, before the committed %d: the broker lost "
                    "events it had acknowledged",
                    consumer,
                    tp.topic,
                    tp.partition,
                    end,
                    committed,
                )
            else:
                behind += end - committed
        return self._caught_up.lag(consumer, behind, regressions)

    async def _consume(
        self, group: str, consumer: AIOKafkaConsumer, deliver: Deliver, batch_size: int
    ) -> None:
        while not self._stopping.is_set():
            try:
                batches = await consumer.getmany(timeout_ms=500, max_records=batch_size)
            except KafkaError as exc:
                log.warning("%s: fetch failed, retrying: %r", group, exc)
                await asyncio.sleep(1)
                continue
            if not batches:
                self._caught_up.now(group)
            for partition, records in batches.items():
                await self._apply(group, deliver, records)
                try:
                    # One commit per partition batch, after the service's transaction committed.
                    await consumer.commit({partition: records[-1].offset + 1})
                except CommitFailedError as exc:
                    # The partition moved to another member during a rebalance; it will
                    # redeliver from the last commit and the inbox drops what we did.
                    log.warning("%s: commit failed after rebalance: %r", group, exc)
                if self._stopping.is_set():
                    return

    async def _apply(self, group: str, deliver: Deliver, records: list[ConsumerRecord]) -> None:
        parsed, unparseable = parse_batch(records, lambda record: record.value)
        failed = await apply_batch(deliver, parsed, self.retry, group)
        for record, error in sorted(unparseable + failed, key=lambda pair: pair[0].offset):
            await self._dead_letter(group, record, error)

    async def _dead_letter(self, group: str, record: ConsumerRecord, error: Exception) -> None:
        assert self._producer is not None
        metrics.DEAD_LETTERS.labels(group).inc()
        log.error(
            "%s: dead-lettering %s[%d]@%d: %r",
            group,
            record.topic,
            record.partition,
            record.offset,
            error,
        )
        headers = [
            ("dlq.consumer", group.encode()),
            ("dlq.original.topic", record.topic.encode()),
            ("dlq.original.partition", str(record.partition).encode()),
            ("dlq.original.offset", str(record.offset).encode()),
            ("dlq.error", repr(error).encode()[:4000]),
        ]
        # Until the dead letter is safely written the offset must not move on.
        while True:
            try:
                await self._producer.send_and_wait(
                    self.dead_letter_topic, value=record.value, key=record.key, headers=headers
                )
                return
            except KafkaError as exc:
                log.warning("%s: dead-letter publish failed, retrying: %r", group, exc)
                await asyncio.sleep(1)
