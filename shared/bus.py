"""The ticket event bus: the interface both buses share, the retry rule, and the embedded bus.

The embedded bus keeps `tickets.lifecycle` as an append-only log in one SQLite file with a
committed offset per consumer, so the embedded run has Kafka's guarantees: a crash loses
nothing, delivery is at-least-once in log order, and a failing event is retried with backoff
and then dead-lettered with its error.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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

from shared.db import create_engine
from shared.events import Envelope

log = logging.getLogger(__name__)

Deliver = Callable[[Envelope], Awaitable[None]]


class Bus(Protocol):
    def subscribe(self, consumer: str, deliver: Deliver) -> None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def publish(self, events: Sequence[Envelope]) -> None: ...
    async def ping(self) -> None: ...


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


async def stop_tasks(tasks: Sequence[asyncio.Task[None]], *, grace_seconds: float = 10.0) -> None:
    """Cancel background loops and wait for them, bounded: a loop that will not stop is
    reported with its stack instead of hanging shutdown."""
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


async def deliver_with_retry(
    deliver: Deliver, envelope: Envelope, policy: RetryPolicy, consumer: str
) -> Exception | None:
    """Blocking retry with exponential backoff (keeps per-ticket order); the last error if all
    attempts fail, for the dead-letter record."""
    delay = policy.backoff_seconds
    for attempt in range(1, policy.max_attempts + 1):
        try:
            await deliver(envelope)
            return None
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(
                "%s: %s %s failed (attempt %d/%d): %r",
                consumer,
                envelope.type,
                envelope.event_id,
                attempt,
                policy.max_attempts,
                exc,
            )
            if attempt == policy.max_attempts:
                return exc
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
    return None


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


class EmbeddedBus:
    """`tickets.lifecycle` as a durable SQLite log shared by the services of one process."""

    def __init__(self, path: Path, retry: RetryPolicy, *, poll_seconds: float = 1.0) -> None:
        self.engine = create_engine(f"sqlite+aiosqlite:///{path.resolve()}")
        self.retry = retry
        self.poll_seconds = poll_seconds
        self._subscribers: dict[str, Deliver] = {}
        self._wakeups: dict[str, asyncio.Event] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def subscribe(self, consumer: str, deliver: Deliver) -> None:
        self._subscribers[consumer] = deliver
        self._wakeups[consumer] = asyncio.Event()

    async def start(self) -> None:
        self._stopping = False
        async with self.engine.begin() as conn:
            await conn.run_sync(_metadata.create_all)
        for consumer, deliver in self._subscribers.items():
            self._tasks.append(
                asyncio.create_task(self._consume(consumer, deliver), name=f"bus-{consumer}")
            )

    async def stop(self) -> None:
        self._stopping = True
        await stop_tasks(self._tasks)
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

    async def _consume(self, consumer: str, deliver: Deliver) -> None:
        wake = self._wakeups[consumer]
        position = await self._committed(consumer)
        while not self._stopping:
            wake.clear()
            async with self.engine.connect() as conn:
                rows = (
                    await conn.execute(
                        select(bus_log.c.offset, bus_log.c.body)
                        .where(bus_log.c.offset > position)
                        .order_by(bus_log.c.offset)
                        .limit(200)
                    )
                ).all()
            for offset, body in rows:
                await self._handle(consumer, deliver, offset, body)
                # The offset is committed only after the consumer's own transaction committed.
                await self._commit(consumer, offset)
                position = offset
            if not rows:
                await wait_for_wakeup(wake, self.poll_seconds)

    async def _handle(self, consumer: str, deliver: Deliver, offset: int, body: str) -> None:
        try:
            envelope = Envelope.model_validate_json(body)
        except ValueError as exc:
            await self._dead_letter(consumer, offset, body, exc)
            return
        error = await deliver_with_retry(deliver, envelope, self.retry, consumer)
        if error is not None:
            await self._dead_letter(consumer, offset, body, error)

    async def _dead_letter(self, consumer: str, offset: int, body: str, error: Exception) -> None:
        log.error("%s: dead-lettering offset %d: %r", consumer, offset, error)
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(bus_dead_letters).values(
                    consumer=consumer, offset=offset, body=body, error=repr(error)
                )
            )
