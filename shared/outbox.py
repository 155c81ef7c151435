"""Transactional outbox: a service writes its state change and its events in one transaction;
a relay publishes them afterwards. No dual writes; nothing is lost while the broker is down."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from shared import metrics
from shared.bus import Bus, stop_tasks, wait_for_wakeup
from shared.clock import Clock
from shared.db import Instant
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
        self._insert = insert(self.table)

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
        envelope = self.envelope(
            payload, ticket_id=ticket_id, occurred_at=occurred_at, correlation_id=correlation_id
        )
        await session.execute(self._insert, _row(envelope))
        session.info[PENDING_KEY] = True
        return envelope

    def envelope(
        self,
        payload: Payload,
        *,
        ticket_id: str,
        occurred_at: datetime,
        correlation_id: str | None = None,
    ) -> Envelope:
        """The event `emit` would add, made now (in the caller's trace) to be added later with
        a run's others by `emit_all`."""
        return new_event(
            payload,
            ticket_id=ticket_id,
            producer=self.producer,
            occurred_at=occurred_at,
            correlation_id=correlation_id,
        )

    async def emit_all(self, session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
        """Add events made with `envelope`, in their order, in one
        statement (an executemany), inside the caller's transaction: for a consumer that applies
        a run of events at once, where `emit` would cost one statement an event."""
        if not envelopes:
            return
        await session.execute(self._insert, [_row(e) for e in envelopes])
        session.info[PENDING_KEY] = True


def _row(envelope: Envelope) -> dict[str, Any]:
    """An event's outbox row, as parameters of the one INSERT built per outbox: building the
    statement per event cost more than running it."""
    return {
        "event_id": str(envelope.event_id),
        "ticket_id": envelope.ticket_id,
        "type": envelope.type,
        "body": envelope.model_dump_json(),
        "created_at": envelope.occurred_at,
    }


class PublishTimeout(TimeoutError):
    """The bus did not confirm a batch in time. The publish goes on in the background; the
    relay waits for it again before it reads anything new."""


class OutboxRelay:
    """Publishes a service's outbox in insertion order, then marks the rows published.

    No transaction is open while the bus publishes: the rows are read in one short transaction,
    published, and marked published in a second one, so a hung broker holds no database
    connection that the service's requests need (docs/faults.md). The relay waits at most
    `publish_timeout` for the bus; a batch it timed out on stays in flight (the producer may
    still deliver it) and is waited for again before anything new is read, so a slow broker is
    not sent the same batch over and over.

    Delivery is at least once: a crash, or a failed mark, between publishing and marking
    publishes the batch again; consumers' inboxes drop the repeats.

    On PostgreSQL only one replica of a service relays at a time, which keeps each ticket's
    events in order: the relay holds a session-level advisory lock on one connection of its
    own, outside the service's pool, and reads and marks on that connection. The connection is
    idle, with no transaction, while the bus publishes. If it breaks, the server releases the
    lock; the relay drops the connection and tries for the lock again on a new one. (Between
    the break and its next statement another replica may take over and publish the same rows:
    duplicates at worst, which the inboxes drop.) SQLite is embedded, one process: no lock.
    There the relay keeps its checkout of the engine's single connection (with no transaction
    open) from the read through the publish to the mark, as long as the bus answers within the
    timeout: letting it go in between made each batch queue twice behind the requests, and
    the embedded pipeline drain slower (docs/performance.md).
    """

    def __init__(
        self,
        outbox: Outbox,
        engine: AsyncEngine,
        bus: Bus,
        clock: Clock,
        *,
        poll_seconds: float = 0.5,
        batch_size: int = 200,
        publish_timeout: float = 10.0,
    ) -> None:
        self.outbox = outbox
        self.engine = engine
        self.bus = bus
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.publish_timeout = publish_timeout
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._lock_key = zlib.crc32(f"outbox:{outbox.producer}".encode())
        self._one_at_a_time = asyncio.Lock()
        # PostgreSQL: the relay's own connection (no pool) and whether it holds the lock.
        self._link_engine: AsyncEngine | None = None
        self._link: AsyncConnection | None = None
        self._leading = False
        # The batch handed to the bus and not yet marked: the publish and the rows' ids.
        self._in_flight: tuple[asyncio.Task[None], list[int]] | None = None

    @property
    def leading(self) -> bool:
        """Whether this relay may publish (always on SQLite; on PostgreSQL, holding the lock)."""
        return self.engine.dialect.name != "postgresql" or self._leading

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
        if self._in_flight is not None:
            # Unmarked: published again at the next start (at least once).
            publish, self._in_flight = self._in_flight[0], None
            await stop_tasks([publish])
            if publish.done() and not publish.cancelled():
                publish.exception()  # seen here, not reported as never retrieved
        await self._drop_link()
        if self._link_engine is not None:
            await self._link_engine.dispose()
            self._link_engine = None

    async def publish_pending(self) -> int:
        """Publish one batch; returns how many events it published (and marked). Raises
        `PublishTimeout` when the bus has not confirmed the batch within `publish_timeout`."""
        async with self._one_at_a_time:
            if self._in_flight is None:
                if not await self._lead():
                    return 0
                # SQLite: the read, the publish and the mark on one checkout of the engine's
                # single connection, so that the relay does not queue behind the requests twice
                # a batch (docs/performance.md); no transaction is open during the publish, and
                # the connection is let go if the bus takes longer than the timeout.
                # PostgreSQL: the relay's own connection.
                async with self._connection() as conn:
                    rows = await self._read(conn)
                    if not rows:
                        return 0
                    publish = asyncio.create_task(
                        self.bus.publish([Envelope.model_validate_json(r.body) for r in rows]),
                        name=f"outbox-publish-{self.outbox.producer}",
                    )
                    self._in_flight = (publish, [r.id for r in rows])
                    if await self._confirmed():
                        return await self._mark(conn)
            elif await self._confirmed():
                async with self._connection() as conn:
                    return await self._mark(conn)
            _, ids = self._in_flight
            raise PublishTimeout(
                f"the bus has not confirmed {len(ids)} events in {self.publish_timeout:g} s"
            )

    async def _confirmed(self) -> bool:
        """Whether the batch in flight was published, waiting at most `publish_timeout`; raises
        the bus's error if it failed (its rows are then read and published again)."""
        assert self._in_flight is not None
        publish, _ = self._in_flight
        # asyncio.wait, not wait_for: a timeout leaves the publish running (not cancelled).
        await asyncio.wait([publish], timeout=self.publish_timeout)
        if not publish.done():
            # Wake the relay's loop as soon as the bus answers, rather than after its backoff.
            publish.add_done_callback(lambda _: self._wake.set())
            return False
        if publish.cancelled() or publish.exception() is not None:
            self._in_flight = None
            publish.result()
        return True

    async def _read(self, conn: AsyncConnection) -> Sequence[Row[Any, Any]]:
        table = self.outbox.table
        async with self._transaction(conn):
            result = await conn.execute(
                select(table.c.id, table.c.body)
                .where(table.c.published_at.is_(None))
                .order_by(table.c.id)
                .limit(self.batch_size)
            )
            return result.all()

    async def _mark(self, conn: AsyncConnection) -> int:
        """Mark the batch in flight published. If this fails, the next call marks it again
        (it is not published again)."""
        assert self._in_flight is not None
        _, ids = self._in_flight
        table = self.outbox.table
        async with self._transaction(conn):
            await conn.execute(
                update(table).where(table.c.id.in_(ids)).values(published_at=self.clock.now())
            )
        self._in_flight = None
        metrics.OUTBOX_PUBLISHED.labels(self.outbox.producer).inc(len(ids))
        return len(ids)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        """The relay's own connection on PostgreSQL; a checkout of the engine's on SQLite."""
        if self.engine.dialect.name == "postgresql":
            yield await self._own_link()
            return
        async with self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def _transaction(self, conn: AsyncConnection) -> AsyncIterator[None]:
        """One short transaction. On the relay's own connection an error drops the connection,
        and with it the lock."""
        try:
            async with conn.begin():
                yield
        except BaseException:  # a cancellation too: a connection cut off mid-statement is dropped
            if conn is self._link:
                await self._drop_link()
            raise

    async def _lead(self) -> bool:
        """On PostgreSQL: whether this relay holds (or has just taken) the outbox's lock."""
        if self.engine.dialect.name != "postgresql":
            return True
        if self._leading:
            return True
        link = await self._own_link()
        async with self._transaction(link):  # the lock is the session's: it outlives the commit
            self._leading = bool(
                await link.scalar(select(func.pg_try_advisory_lock(self._lock_key)))
            )
        if self._leading:
            log.info("outbox %s: this replica relays", self.outbox.producer)
        return self._leading

    async def _own_link(self) -> AsyncConnection:
        if self._link is None:
            if self._link_engine is None:
                # Its own engine without a pool: this connection never counts against (or
                # waits for) the service's pool.
                self._link_engine = create_async_engine(
                    self.engine.url,
                    poolclass=NullPool,
                    hide_parameters=True,
                    connect_args={"server_settings": {"application_name": self.application_name}},
                )
            self._link = await self._link_engine.connect()
        return self._link

    @property
    def application_name(self) -> str:
        """How the relay's connection names itself to PostgreSQL (pg_stat_activity)."""
        return f"outbox-relay-{self.outbox.producer}"

    async def _drop_link(self) -> None:
        link, self._link, self._leading = self._link, None, False
        if link is None:
            return
        try:
            await link.invalidate()  # closes the connection: the server releases the lock
        except Exception as exc:
            log.debug("outbox %s: dropping the relay's connection: %r", self.outbox.producer, exc)
        with contextlib.suppress(Exception):
            await link.close()

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
