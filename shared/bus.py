"""The ticket event bus: the interface both buses share, the retry rule, and the embedded bus.

The embedded bus keeps `tickets.lifecycle` as an append-only log in one SQLite file with a
committed offset per consumer, so the embedded run has Kafka's guarantees: a crash loses
nothing, delivery is at-least-once in log order, and a failing event is retried with backoff
and then dead-lettered with its error.

Both buses hand a consumer its events in batches (in log order) and commit the offset once per
batch, after the consumer applied it; a batch that fails is applied again one event at a time,
so only the event that keeps failing is dead-lettered.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple, Protocol, TypeVar

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shared import metrics
from shared.db import create_engine, is_outage
from shared.events import Envelope
from shared.settings import DEFAULT_CONSUMER_BATCH_SIZE

log = logging.getLogger(__name__)

# A consumer applies a batch of events, in log order, all or nothing.
Deliver = Callable[[Sequence[Envelope]], Awaitable[None]]
# Where an event came from (a log row, a Kafka record): what its dead letter is made of.
Source = TypeVar("Source")


@dataclass(frozen=True)
class Lag:
    """How far a consumer is behind the bus (the operators' status page and the metrics).

    `behind`: events after its committed position. `behind_seconds`: how long since it was last
    caught up (0 when it is): every event it has not handled arrived after that, so this bounds
    the oldest one's wait, on either bus and whatever the events' own times. `regressions`:
    partitions whose log ends before the committed position — the broker lost events it had
    acknowledged."""

    behind: int
    behind_seconds: float
    regressions: int = 0


class CaughtUp:
    """When each consumer last found nothing left to handle (monotonic clock)."""

    def __init__(self) -> None:
        self._at: dict[str, float] = {}

    def now(self, consumer: str) -> None:
        self._at[consumer] = time.monotonic()

    def lag(self, consumer: str, behind: int, regressions: int = 0) -> Lag:
        since = self._at.get(consumer)
        waited = time.monotonic() - since if behind > 0 and since is not None else 0.0
        return Lag(behind, waited, regressions)


class Bus(Protocol):
    def subscribe(
        self, consumer: str, deliver: Deliver, *, batch_size: int = DEFAULT_CONSUMER_BATCH_SIZE
    ) -> None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def publish(self, events: Sequence[Envelope]) -> None: ...
    async def ping(self) -> None: ...
    async def lag(self, consumer: str) -> Lag: ...
    def consumers(self) -> list[str]: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_seconds: float = 0.2


async def wait_for_wakeup(wake: asyncio.Event, seconds: float) -> None:
    """Sleep until `wake` is set or `seconds` pass.

    Not `asyncio.wait_for(wake.wait(), ...)`: on Python 3.11 that swallows a cancellation that
    arrives in the same loop turn as the wake-up (CPython gh-86296), and a loop that relies on
    being cancelled then never stops. `asyncio.timeout` awaits in the task itself, so a
    cancellation always reaches it.
    """
    try:
        async with asyncio.timeout(seconds):
            await wake.wait()
    except TimeoutError:
        pass


async def stop_tasks(
    tasks: Sequence[asyncio.Task[None]],
    *,
    finish_seconds: float = 0.0,
    grace_seconds: float = 10.0,
) -> None:
    """Stop background loops, bounded. Loops that watch a stop flag (already set and woken by
    the caller) get `finish_seconds` to end on their own, so a transaction in hand completes
    rather than being cancelled halfway; the rest are cancelled, and a loop that will not stop
    is reported with its stack instead of hanging shutdown."""
    if not tasks:
        return
    if finish_seconds:
        _, running = await asyncio.wait(tasks, timeout=finish_seconds)
        tasks = list(running)
    for task in tasks:
        task.cancel()
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=grace_seconds)
    for task in pending:
        stack = io.StringIO()
        task.print_stack(file=stack)
        log.error(
            "%s did not stop within %.0f s:\n%s", task.get_name(), grace_seconds, stack.getvalue()
        )


def parse_batch(
    sources: Sequence[Source], body: Callable[[Source], str | bytes]
) -> tuple[list[tuple[Source, Envelope]], list[tuple[Source, Exception]]]:
    """Split fetched events into parsed envelopes and bodies that do not parse; those go to
    the dead letters at once, as no retry can fix them."""
    parsed: list[tuple[Source, Envelope]] = []
    unparseable: list[tuple[Source, Exception]] = []
    for source in sources:
        try:
            parsed.append((source, Envelope.from_json(body(source))))
        except ValueError as exc:
            unparseable.append((source, exc))
    return parsed, unparseable


async def apply_batch(
    deliver: Deliver,
    batch: Sequence[tuple[Source, Envelope]],
    policy: RetryPolicy,
    consumer: str,
) -> list[tuple[Source, Exception]]:
    """Apply the batch in one call; if that fails (and so rolled back), apply its events one at
    a time, each with the blocking retry, so one failing event cannot hold back the others. The
    events that kept failing, with their last error, for the dead letters."""
    metrics.BATCH_SIZE.labels(consumer).observe(len(batch))
    if len(batch) > 1:  # a batch of one goes straight to the retries: its first attempt
        try:
            await deliver([envelope for _, envelope in batch])
            return []
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            note_failure(consumer, exc)
            log.warning(
                "%s: batch of %d failed, applying it one event at a time: %r",
                consumer,
                len(batch),
                exc,
            )
    failed: list[tuple[Source, Exception]] = []
    for source, envelope in batch:
        error = await deliver_with_retry(deliver, envelope, policy, consumer)
        if error is not None:
            failed.append((source, error))
    return failed


async def deliver_with_retry(
    deliver: Deliver, envelope: Envelope, policy: RetryPolicy, consumer: str
) -> Exception | None:
    """Blocking retry with exponential backoff (keeps per-ticket order); the last error if all
    attempts fail, for the dead-letter record. An outage of the consumer's own database is not
    the event's fault: it is waited out (the consumer stays blocked, the attempt is not
    counted) instead of dead-lettering good events one by one — in the fault drills a
    PostgreSQL restart took three of five attempts in seconds."""
    delay = policy.backoff_seconds
    attempt = 0
    while attempt < policy.max_attempts:
        if attempt > 0:
            metrics.RETRIES.labels(consumer).inc()
        try:
            await deliver([envelope])
            return None
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            note_failure(consumer, exc)
            outage = is_outage(exc)
            attempt += 0 if outage else 1
            log.warning(
                "%s: %s %s failed (%s): %r",
                consumer,
                envelope.type,
                envelope.event_id,
                "database unreachable, waiting"
                if outage
                else f"attempt {attempt}/{policy.max_attempts}",
                exc,
            )
            if attempt == policy.max_attempts:
                return exc
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
    return None


def note_failure(consumer: str, error: Exception) -> None:
    """Count a failed attempt and keep it as the consumer's last error (the status page)."""
    metrics.FAILURES.labels(consumer).inc()
    metrics.LAST_ERRORS[consumer] = (datetime.now(UTC), repr(error)[:500])


_metadata = MetaData()
bus_log = Table(
    "bus_log",
    _metadata,
    Column("offset", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", String(64), nullable=False),
    Column("body", Text, nullable=False),
)
bus_offsets = Table(
    "bus_offsets",
    _metadata,
    Column("consumer", String(64), primary_key=True),
    Column("offset", Integer, nullable=False),
)
bus_dead_letters = Table(
    "bus_dead_letters",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("consumer", String(64), nullable=False),
    Column("offset", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("dead_at", DateTime(timezone=True), server_default=func.current_timestamp()),
)


class LogEntry(NamedTuple):
    offset: int
    body: str


class EmbeddedBus:
    """`tickets.lifecycle` as a durable SQLite log shared by the services of one process."""

    def __init__(self, path: Path, retry: RetryPolicy, *, poll_seconds: float = 1.0) -> None:
        self.engine = create_engine(f"sqlite+aiosqlite:///{path.resolve()}")
        self.retry = retry
        self.poll_seconds = poll_seconds
        self._subscribers: dict[str, tuple[Deliver, int]] = {}
        self._wakeups: dict[str, asyncio.Event] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._caught_up = CaughtUp()

    def subscribe(
        self, consumer: str, deliver: Deliver, *, batch_size: int = DEFAULT_CONSUMER_BATCH_SIZE
    ) -> None:
        self._subscribers[consumer] = (deliver, batch_size)
        self._wakeups[consumer] = asyncio.Event()

    async def start(self) -> None:
        self._stopping = False
        async with self.engine.begin() as conn:
            await conn.run_sync(_metadata.create_all)
        for consumer, (deliver, batch_size) in self._subscribers.items():
            self._caught_up.now(consumer)  # behind, from here on, is measured from the start
            self._tasks.append(
                asyncio.create_task(
                    self._consume(consumer, deliver, batch_size), name=f"bus-{consumer}"
                )
            )

    async def stop(self) -> None:
        self._stopping = True
        for wake in self._wakeups.values():
            wake.set()
        await stop_tasks(self._tasks, finish_seconds=5)
        self._tasks.clear()
        await self.engine.dispose()

    async def publish(self, events: Sequence[Envelope]) -> None:
        if not events:
            return
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(bus_log),
                [{"ticket_id": e.ticket_id, "body": e.model_dump_json()} for e in events],
            )
        for wake in self._wakeups.values():
            wake.set()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(select(1))

    def consumers(self) -> list[str]:
        return list(self._subscribers)

    async def lag(self, consumer: str) -> Lag:
        committed = await self._committed(consumer)
        async with self.engine.connect() as conn:
            head = int(await conn.scalar(select(func.max(bus_log.c.offset))) or 0)
        if head < committed:
            log.error(
                "%s: the bus log ends at %d, before the committed offset %d: events are lost",
                consumer,
                head,
                committed,
            )
            return self._caught_up.lag(consumer, 0, regressions=1)
        return self._caught_up.lag(consumer, head - committed)

    async def dead_letters(self) -> list[dict[str, object]]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(bus_dead_letters).order_by(bus_dead_letters.c.id))
            return [dict(r._mapping) for r in rows]

    async def _committed(self, consumer: str) -> int:
        async with self.engine.connect() as conn:
            value = await conn.scalar(
                select(bus_offsets.c.offset).where(bus_offsets.c.consumer == consumer)
            )
        return int(value or 0)

    async def _commit(self, consumer: str, offset: int) -> None:
        statement = sqlite_insert(bus_offsets).values(consumer=consumer, offset=offset)
        statement = statement.on_conflict_do_update(
            index_elements=["consumer"], set_={"offset": offset}
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement)

    async def _consume(self, consumer: str, deliver: Deliver, batch_size: int) -> None:
        wake = self._wakeups[consumer]
        position = await self._committed(consumer)
        while not self._stopping:
            wake.clear()
            async with self.engine.connect() as conn:
                result = await conn.execute(
                    select(bus_log.c.offset, bus_log.c.body)
                    .where(bus_log.c.offset > position)
                    .order_by(bus_log.c.offset)
                    .limit(batch_size)
                )
                rows = [LogEntry(offset, body) for offset, body in result]
            if not rows:
                self._caught_up.now(consumer)
                await wait_for_wakeup(wake, self.poll_seconds)
                continue
            await self._apply(consumer, deliver, rows)
            # One offset write per batch, and only after the consumer's transaction committed:
            # a crash in between redelivers the batch, and the consumer's inbox drops it.
            position = rows[-1].offset
            await self._commit(consumer, position)

    async def _apply(self, consumer: str, deliver: Deliver, rows: Sequence[LogEntry]) -> None:
        parsed, unparseable = parse_batch(rows, lambda row: row.body)
        failed = await apply_batch(deliver, parsed, self.retry, consumer)
        for row, error in sorted(unparseable + failed, key=lambda pair: pair[0].offset):
            await self._dead_letter(consumer, row.offset, row.body, error)

    async def _dead_letter(self, consumer: str, offset: int, body: str, error: Exception) -> None:
        log.error("%s: dead-lettering offset %d: %r", consumer, offset, error)
        metrics.DEAD_LETTERS.labels(consumer).inc()
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(bus_dead_letters).values(
                    consumer=consumer, offset=offset, body=body, error=repr(error)
                )
            )
