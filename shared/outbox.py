"""Transactional outbox: a service writes its state change and its events in one transaction;
a relay publishes them afterwards. No dual writes; nothing is lost while the broker is down."""

from __future__ import annotations

import asyncio
import logging
import zlib
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import metrics
from shared.bus import Bus, stop_tasks, wait_for_wakeup
from shared.clock import Clock
from shared.db import Instant, dialect_name
from shared.events import Envelope, Payload, new_event

log = logging.getLogger(__name__)

PENDING_KEY = "outbox_pending"


class Outbox:
    """A service's outbox table and the way its code adds events to it."""

    def __init__(self, metadata: MetaData, producer: str) -> None:
        self.producer = producer
        self.table = Table(
            f"{producer}_outbox",
            metadata,
            Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
            Column("event_id", String(36), nullable=False, unique=True),
            Column("ticket_id", String(64), nullable=False),
            Column("type", String(64), nullable=False),
            Column("body", Text, nullable=False),
            Column("created_at", Instant(), nullable=False),
            Column("published_at", Instant()),
            Index(
                f"ix_{producer}_outbox_unpublished",
                "id",
                postgresql_where=text("published_at IS NULL"),
                sqlite_where=text("published_at IS NULL"),
            ),
        )

    async def emit(
        self,
        session: AsyncSession,
        payload: Payload,
        *,
        ticket_id: str,
        occurred_at: datetime,
        correlation_id: str | None = None,
    ) -> Envelope:
        """Add an event to the outbox, inside the caller's transaction."""
        envelope = new_event(
            payload,
            ticket_id=ticket_id,
            producer=self.producer,
            occurred_at=occurred_at,
            correlation_id=correlation_id,
        )
        await session.execute(
            insert(self.table).values(
                event_id=str(envelope.event_id),
                ticket_id=ticket_id,
                type=envelope.type,
                body=envelope.model_dump_json(),
                created_at=occurred_at,
            )
        )
        session.info[PENDING_KEY] = True
        return envelope


class OutboxRelay:
    """Publishes a service's outbox in insertion order, then marks the rows published.

    A crash between publishing and marking publishes the batch again; consumers' inboxes make
    that harmless. On PostgreSQL an advisory lock lets only one replica relay at a time, which
    keeps each ticket's events in order.
    """

    def __init__(
        self,
        outbox: Outbox,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: Bus,
        clock: Clock,
        *,
        poll_seconds: float = 0.5,
        batch_size: int = 200,
    ) -> None:
        self.outbox = outbox
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._lock_key = zlib.crc32(f"outbox:{outbox.producer}".encode())

    def nudge(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.outbox.producer}")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task:
            await stop_tasks([self._task], finish_seconds=5)
            self._task = None
        # One last drain, so a clean shutdown leaves nothing behind that the bus can take.
        try:
            while await self.publish_pending():
                pass
        except Exception as exc:  # the broker may be gone; the rows wait for the next start
            log.warning("outbox %s: final drain failed: %s", self.outbox.producer, exc)

    async def publish_pending(self) -> int:
        """Publish one batch; returns how many events it published."""
        table = self.outbox.table
        async with self.sessionmaker() as session, session.begin():
            if dialect_name(session) == "postgresql":
                locked = await session.scalar(
                    select(func.pg_try_advisory_xact_lock(self._lock_key))
                )
                if not locked:
                    return 0
            rows = (
                await session.execute(
                    select(table.c.id, table.c.body)
                    .where(table.c.published_at.is_(None))
                    .order_by(table.c.id)
                    .limit(self.batch_size)
                )
            ).all()
            if not rows:
                return 0
            await self.bus.publish([Envelope.model_validate_json(r.body) for r in rows])
            await session.execute(
                update(table)
                .where(table.c.id.in_([r.id for r in rows]))
                .values(published_at=self.clock.now())
            )
        metrics.OUTBOX_PUBLISHED.labels(self.outbox.producer).inc(len(rows))
        return len(rows)

    async def _run(self) -> None:
        backoff = self.poll_seconds
        while not self._stopping:
            try:
                while await self.publish_pending() >= self.batch_size:
                    pass
                backoff = self.poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Broker or database unavailable: keep the events and try again, more slowly.
                log.warning("outbox %s: publish failed, will retry: %s", self.outbox.producer, exc)
                backoff = min(backoff * 2, 10.0)
            await wait_for_wakeup(self._wake, backoff)
            self._wake.clear()
