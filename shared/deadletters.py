"""Dead letters: list them, and replay them after a fix, on either bus.

A consumer dead-letters an event it could not apply after its retries (shared/bus.py): on the
embedded bus a row of `bus_dead_letters` in the bus's SQLite file, on Kafka a record of
`tickets.lifecycle.dlq` with the consumer, the origin and the error in its headers. Nothing
reads them back by itself: once the cause is fixed (a consumer that reads the version, the
reference data it was missing), `python -m services deadletters replay` puts the original
envelope back on the topic, unchanged, and records the replay.

Replaying re-publishes to the whole topic, not to one consumer: the consumers that applied the
event before drop it in their inbox (same `event_id`), and the one that dead-lettered it never
claimed it (its transaction rolled back), so it applies it now: exactly once. An event that
several consumers dead-lettered is published once for all of them. If it fails again it is
dead-lettered again, as a new dead letter, and is listed as pending once more.

Where the replay is recorded:
- embedded: `bus_dead_letter_replays` in the same SQLite file, in the same transaction as the
  append to the log (both or neither);
- Kafka: a JSON record on `tickets.lifecycle.dlq.replays` (key = the dead letter's reference),
  written after the re-publish was acknowledged. A crash between the two leaves the dead letter
  pending although it was re-published; replaying it again only publishes a duplicate, which
  every inbox drops.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from uuid import UUID

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.bus import bus_dead_letters, bus_log
from shared.db import create_engine
from shared.events import Envelope
from shared.settings import PlatformSettings

REPLAYS_SUFFIX = ".replays"

_metadata = MetaData()
bus_dead_letter_replays = Table(
    "bus_dead_letter_replays",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dead_letter_id", Integer, nullable=False, index=True),
    Column("event_id", String(36)),
    Column("offset", Integer, nullable=False),  # where the envelope went back on the log
    Column("replayed_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class DeadLetter:
    """One dead letter, whichever bus keeps it."""

    ref: str  # embedded: the row id; Kafka: "<partition>@<offset>" on the dead-letter topic
    consumer: str
    origin: str  # where the event was when it failed: "log@<offset>", "<topic>[<p>]@<offset>"
    error: str
    body: bytes
    key: bytes | None = None
    dead_at: datetime | None = None
    replayed_at: datetime | None = None
    envelope: Envelope | None = None  # None: the body is not an envelope (no replay can help)

    @property
    def event_id(self) -> UUID | None:
        return self.envelope.event_id if self.envelope else None

    @property
    def pending(self) -> bool:
        return self.replayed_at is None

    def describe(self) -> str:
        what = (
            f"{self.envelope.type} v{self.envelope.version} {self.envelope.event_id} "
            f"ticket {self.envelope.ticket_id}"
            if self.envelope
            else "(not an envelope)"
        )
        state = f"replayed {self.replayed_at:%Y-%m-%d %H:%M:%S}" if self.replayed_at else "pending"
        return f"{self.ref:>8}  {self.consumer:<10} {what}  from {self.origin}  [{state}]\n          error: {self.error}"

    def as_json(self) -> dict[str, object]:
        return {
            "ref": self.ref,
            "consumer": self.consumer,
            "origin": self.origin,
            "error": self.error,
            "event_id": str(self.event_id) if self.event_id else None,
            "type": self.envelope.type if self.envelope else None,
            "version": self.envelope.version if self.envelope else None,
            "ticket_id": self.envelope.ticket_id if self.envelope else None,
            "dead_at": self.dead_at.isoformat() if self.dead_at else None,
            "replayed_at": self.replayed_at.isoformat() if self.replayed_at else None,
        }


@dataclass
class Replay:
    """What one replay call did."""

    published: list[tuple[UUID, str]] = field(default_factory=list)  # (event id, where)
    recorded: list[str] = field(default_factory=list)  # dead-letter refs marked replayed
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (ref or id, why)


class DeadLetterStore(Protocol):
    async def dead_letters(self) -> list[DeadLetter]: ...
    async def republish(self, letters: Sequence[DeadLetter], now: datetime) -> str:
        """Put the first letter's body back on its topic and record every letter (all of one
        event) as replayed; where it went."""
        ...

    async def close(self) -> None: ...


def _envelope(body: bytes) -> Envelope | None:
    try:
        return Envelope.from_json(body)
    except ValueError:
        return None


class EmbeddedDeadLetters:
    """The embedded bus's dead letters, in its SQLite file (a running platform's consumers
    poll the log, so they pick a replay up within a second)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.engine: AsyncEngine = create_engine(f"sqlite+aiosqlite:///{path.resolve()}")
        self._ready = False

    async def _prepare(self) -> None:
        if not self._ready:
            async with self.engine.begin() as conn:
                await conn.run_sync(bus_log.metadata.create_all)
                await conn.run_sync(_metadata.create_all)
            self._ready = True

    async def dead_letters(self) -> list[DeadLetter]:
        await self._prepare()
        dl, replays = bus_dead_letters, bus_dead_letter_replays
        latest = (
            select(replays.c.dead_letter_id, func.max(replays.c.replayed_at).label("replayed_at"))
            .group_by(replays.c.dead_letter_id)
            .subquery()
        )
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(dl, latest.c.replayed_at)
                .outerjoin(latest, latest.c.dead_letter_id == dl.c.id)
                .order_by(dl.c.id)
            )
            letters = []
            for row in rows:
                body = row.body.encode("utf-8")
                envelope = _envelope(body)
                letters.append(
                    DeadLetter(
                        ref=str(row.id),
                        consumer=row.consumer,
                        origin=f"log@{row.offset}",
                        error=row.error,
                        body=body,
                        key=envelope.ticket_id.encode() if envelope else None,
                        dead_at=_aware(row.dead_at),
                        replayed_at=_aware(row.replayed_at),
                        envelope=envelope,
                    )
                )
            return letters

    async def republish(self, letters: Sequence[DeadLetter], now: datetime) -> str:
        await self._prepare()
        first = letters[0]
        assert first.envelope is not None
        async with self.engine.begin() as conn:
            offset = await conn.scalar(
                insert(bus_log)
                .values(ticket_id=first.envelope.ticket_id, body=first.body.decode("utf-8"))
                .returning(bus_log.c.offset)
            )
            await conn.execute(
                insert(bus_dead_letter_replays),
                [
                    {
                        "dead_letter_id": int(letter.ref),
                        "event_id": str(first.envelope.event_id),
                        "offset": offset,
                        "replayed_at": now,
                    }
                    for letter in letters
                ],
            )
        return f"log@{offset}"

    async def close(self) -> None:
        await self.engine.dispose()


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # SQLite's CURRENT_TIMESTAMP is UTC
    return value


class KafkaDeadLetters:
    """`tickets.lifecycle.dlq` read from its beginning (no consumer group, nothing committed),
    replays recorded on `tickets.lifecycle.dlq.replays`."""

    def __init__(self, settings: PlatformSettings, *, timeout: float = 30.0) -> None:
        assert settings.kafka_bootstrap, "KafkaDeadLetters needs HOTLINE_KAFKA_BOOTSTRAP"
        self.settings = settings
        self.bootstrap = settings.kafka_bootstrap
        self.dlq = settings.kafka_dead_letter_topic
        self.replays = settings.kafka_dead_letter_topic + REPLAYS_SUFFIX
        self.timeout = timeout
        self._producer: AIOKafkaProducer | None = None

    async def _read_all(self, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
        """Every record of `topic`, from the beginning to its end when this started."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            client_id="hotline-deadletters",
        )
        await consumer.start()
        try:
            if topic not in await asyncio.wait_for(consumer.topics(), timeout=self.timeout):
                return []
            numbers = consumer.partitions_for_topic(topic) or set()
            assigned = [TopicPartition(topic, p) for p in sorted(numbers)]
            consumer.assign(assigned)
            await consumer.seek_to_beginning(*assigned)
            ends = await consumer.end_offsets(assigned)
            records: list[ConsumerRecord[bytes, bytes]] = []
            left = {tp for tp in assigned if ends[tp] > 0}
            deadline = asyncio.get_running_loop().time() + self.timeout
            while left:
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"could not read {topic} to its end in {self.timeout:.0f}s")
                batches = await consumer.getmany(*left, timeout_ms=500)
                for tp, batch in batches.items():
                    records.extend(r for r in batch if r.offset < ends[tp])
                for tp in list(left):
                    if await consumer.position(tp) >= ends[tp]:
                        left.discard(tp)
            return records
        finally:
            await consumer.stop()

    async def dead_letters(self) -> list[DeadLetter]:
        replayed: dict[str, datetime] = {}
        for record in await self._read_all(self.replays):
            note = json.loads(record.value)
            replayed[note["dead_letter"]] = datetime.fromisoformat(note["replayed_at"])
        letters = []
        for record in await self._read_all(self.dlq):
            headers = {k: v.decode("utf-8", "replace") for k, v in record.headers}
            ref = f"{record.partition}@{record.offset}"
            body: bytes = record.value
            letters.append(
                DeadLetter(
                    ref=ref,
                    consumer=headers.get("dlq.consumer", "?"),
                    origin=(
                        f"{headers.get('dlq.original.topic', '?')}"
                        f"[{headers.get('dlq.original.partition', '?')}]"
                        f"@{headers.get('dlq.original.offset', '?')}"
                    ),
                    error=headers.get("dlq.error", ""),
                    body=body,
                    key=record.key,
                    dead_at=datetime.fromtimestamp(record.timestamp / 1000, UTC),
                    replayed_at=replayed.get(ref),
                    envelope=_envelope(body),
                )
            )
        return letters

    async def _started_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
            await admin.start()
            try:
                if self.replays not in set(await admin.list_topics()):
                    try:
                        await admin.create_topics(
                            [NewTopic(self.replays, 1, self.settings.kafka_replication_factor)]
                        )
                    except TopicAlreadyExistsError:
                        pass
            finally:
                await admin.close()
            producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap,
                client_id="hotline-deadletters",
                acks="all",
                enable_idempotence=self.settings.kafka_idempotent_producer,
            )
            await producer.start()
            self._producer = producer
        return self._producer

    async def republish(self, letters: Sequence[DeadLetter], now: datetime) -> str:
        producer = await self._started_producer()
        first = letters[0]
        assert first.envelope is not None
        envelope = first.envelope
        sent = await producer.send_and_wait(
            self.settings.kafka_topic,
            value=first.body,
            key=first.key or envelope.ticket_id.encode(),
            headers=[
                ("type", envelope.type.encode()),
                ("version", str(envelope.version).encode()),
                ("dlq.replay_of", ",".join(letter.ref for letter in letters).encode()),
            ],
        )
        where = f"{sent.topic}[{sent.partition}]@{sent.offset}"
        for letter in letters:
            note = {
                "dead_letter": letter.ref,
                "event_id": str(envelope.event_id),
                "consumer": letter.consumer,
                "to": where,
                "replayed_at": now.isoformat(),
            }
            await producer.send_and_wait(
                self.replays, value=json.dumps(note).encode(), key=letter.ref.encode()
            )
        return where

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


def store_for(settings: PlatformSettings) -> DeadLetterStore:
    """Kafka's dead letters when `HOTLINE_KAFKA_BOOTSTRAP` is set, else the embedded bus's:
    the same switch as the services'."""
    if settings.kafka_bootstrap:
        return KafkaDeadLetters(settings)
    return EmbeddedDeadLetters(settings.data_dir / "bus.db")


async def replay(
    store: DeadLetterStore,
    *,
    event_ids: Iterable[UUID] = (),
    everything: bool = False,
    again: bool = False,
    now: datetime | None = None,
) -> Replay:
    """Re-publish the pending dead letters of `event_ids` (or all pending ones with
    `everything`), each event once however many consumers dead-lettered it, and record the
    replays. `again` also replays letters already replayed (their inboxes drop what was
    applied)."""
    now = now or datetime.now(UTC)
    wanted = set(event_ids)
    result = Replay()
    letters = await store.dead_letters()
    by_event: dict[UUID, list[DeadLetter]] = {}
    for letter in letters:
        if letter.envelope is None:
            if everything:
                result.skipped.append((letter.ref, "not an envelope: nothing to replay"))
            continue
        event_id = letter.envelope.event_id
        if not everything and event_id not in wanted:
            continue
        if not letter.pending and not again:
            continue
        by_event.setdefault(event_id, []).append(letter)
    for event_id in sorted(wanted - by_event.keys(), key=str):
        known = any(letter.event_id == event_id for letter in letters)
        result.skipped.append(
            (
                str(event_id),
                "already replayed (--again to replay it once more)"
                if known
                else "no dead letter with this event id",
            )
        )
    for event_id, group in by_event.items():
        where = await store.republish(group, now)
        result.published.append((event_id, where))
        result.recorded.extend(letter.ref for letter in group)
    return result
