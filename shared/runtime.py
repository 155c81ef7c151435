"""What a service is (`ServiceSpec`, declared by each service's app.py) and how it runs
(`ServiceRuntime`: its engine, migrations, outbox relay, inbox-guarded consumer and jobs).

A service's handlers are registered by payload class (`{TicketReopened: rehandling.reopen}`).
The runtime parses each event it applies once, into that class, and hands the handler an
`Event[TicketReopened]`: the handler reads typed fields, so mypy catches a renamed one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from sqlalchemy import MetaData, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from shared import db, logs, metrics, migrations, tracing
from shared.bus import Bus, stop_tasks
from shared.clock import Clock, aware
from shared.events import Envelope, Event, Payload, UnknownEventType
from shared.inbox import Inbox
from shared.outbox import PENDING_KEY, Outbox, OutboxRelay
from shared.settings import PlatformSettings, ServiceSettings

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Event[Any]], Awaitable[None]]


@dataclass(frozen=True)
class TakesRuns:
    """A handler that applies a run of consecutive events of its types in one call, for a
    consumer where one read of the run's tickets and one insert of its rows pays (intake's
    progress: about ten events a ticket)."""

    apply: Callable[[AsyncSession, Sequence[Event[Any]]], Awaitable[None]]


AnyHandler = Handler | TakesRuns
# What a service consumes: the payload class (one event type at one version) → its handler.
Handlers = Mapping[type[Payload], AnyHandler]
EventKey = tuple[str, int]  # (type, version)
JobRun = Callable[[async_sessionmaker[AsyncSession], Clock], Awaitable[object]]


@dataclass(frozen=True)
class Job:
    """A scheduled job: `run` is called every `every_seconds` while the service runs."""

    name: str
    every_seconds: float
    run: JobRun


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    router: APIRouter
    metadata: MetaData
    outbox: Outbox
    inbox: Inbox
    settings: ServiceSettings
    handlers: Handlers = field(default_factory=dict)
    jobs: Sequence[Job] = ()
    # Sets the service's own gauges (sla's due timers, callback's due callbacks …) from its
    # database; called when the metrics are scraped.
    gauges: Callable[[AsyncSession, datetime], Awaitable[None]] | None = None

    def handlers_by_key(self) -> dict[EventKey, AnyHandler]:
        return {(model.event_type, model.version): h for model, h in self.handlers.items()}


class ServiceRuntime:
    def __init__(
        self, spec: ServiceSpec, platform: PlatformSettings, bus: Bus, clock: Clock
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.bus = bus
        self.clock = clock
        self.database_url = spec.settings.resolved_database_url(spec.name, platform)
        self.engine = db.create_engine(self.database_url)
        # SQLite's one connection: requests take a place first (PlatformSettings
        # .sqlite_request_slots); the relay and the consumers do not.
        self.request_slots = (
            asyncio.Semaphore(platform.sqlite_request_slots)
            if db.is_sqlite(self.database_url)
            else None
        )

        # Commits that added events wake the relay at once instead of at its next poll.
        session_class = type(f"{spec.name.title()}Session", (Session,), {})
        event.listen(session_class, "after_commit", self._after_commit)
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=session_class
        )
        self.relay = OutboxRelay(
            spec.outbox,
            self.engine,
            bus,
            clock,
            poll_seconds=platform.outbox_poll_seconds,
            batch_size=platform.outbox_batch_size,
            publish_timeout=platform.outbox_publish_timeout_seconds,
        )
        self.batch_size = platform.consumer_batch_size
        self.handlers = spec.handlers_by_key()
        self._jobs: list[asyncio.Task[None]] = []

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(PENDING_KEY, False):
            self.relay.nudge()

    async def migrate(self) -> None:
        await migrations.upgrade(self.engine, self.name)

    def subscribe(self) -> None:
        if self.spec.handlers:
            self.bus.subscribe(self.name, self.deliver_batch, batch_size=self.batch_size)

    async def deliver(self, envelope: Envelope) -> None:
        """Apply one event: a batch of one (tests feed events this way)."""
        await self.deliver_batch([envelope])

    async def deliver_batch(self, envelopes: Sequence[Envelope]) -> None:
        """Apply a batch in log order in one transaction: claim its events in the inbox with one
        statement, then run each newly claimed event's handler. Any failure rolls the whole
        batch back; the bus then applies its events one at a time to isolate the failing one."""
        batch = to_apply(envelopes, self.handlers)
        if not batch:
            return
        async with self.sessionmaker() as session, session.begin():
            claimed = await self.spec.inbox.claim_all(
                session,
                consumer=self.name,
                events=[(e.event_id, e.type) for e in batch],
                now=self.clock.now(),
            )
            # The rest are redeliveries. Each fresh event is parsed here, once; a payload its
            # model refuses fails the batch like any handler error (isolated, dead-lettered).
            fresh = [self.parse(e) for e in batch if e.event_id in claimed]
            for handler, run in runs(fresh, self.handlers):
                with self._about(run):
                    if isinstance(handler, TakesRuns):
                        await handler.apply(session, run)
                    else:
                        await handler(session, run[0])
                    # Each handler starts from an empty identity map, as in a transaction of
                    # its own: after a bulk UPDATE with synchronize_session=False (sla stops
                    # timers so) the next handler would otherwise read objects as they were.
                    await session.flush()
                    log.debug("%s applied %d × %s", self.name, len(run), run[0].type)
                session.expunge_all()
        metrics.EVENTS.labels(self.name, "applied").inc(len(fresh))
        metrics.EVENTS.labels(self.name, "redelivered").inc(len(batch) - len(fresh))

    @contextmanager
    def _about(self, run: Sequence[Event[Any]]) -> Iterator[None]:
        """Log lines name the run's (first) event and ticket; the handling continues the trace
        of the use case that produced it."""
        first = run[0]
        with (
            tracing.continued(f"{self.name}: {first.type}", first.envelope.trace_context),
            logs.context(
                service=self.name,
                ticket_id=first.ticket_id,
                event_id=str(first.event_id),
                event_type=first.type,
                trace_id=tracing.trace_id(),
            ),
        ):
            yield

    def parse(self, envelope: Envelope) -> Event[Any]:
        if (envelope.type, envelope.version) not in self.handlers:
            raise UnknownEventType(
                f"{self.name} reads {envelope.type} in versions "
                f"{sorted(v for t, v in self.handlers if t == envelope.type)}, "
                f"not v{envelope.version}"
            )
        return Event.of(envelope)

    async def outbox_backlog(self) -> tuple[int, float]:
        """Unpublished outbox rows and the age in seconds of the oldest (0 when none)."""
        table = self.spec.outbox.table
        async with self.sessionmaker() as session:
            count, oldest = (
                await session.execute(
                    select(func.count(), func.min(table.c.created_at)).where(
                        table.c.published_at.is_(None)
                    )
                )
            ).one()
        if not count or oldest is None:
            return 0, 0.0
        return int(count), max((self.clock.now() - aware(oldest)).total_seconds(), 0.0)

    async def refresh_gauges(self) -> None:
        if self.spec.gauges is not None:
            async with self.sessionmaker() as session:
                await self.spec.gauges(session, self.clock.now())

    async def start(self) -> None:
        await self.relay.start()
        for job in self.spec.jobs:
            self._jobs.append(asyncio.create_task(self._every(job), name=f"{self.name}-{job.name}"))

    async def stop(self) -> None:
        await stop_tasks(self._jobs)
        self._jobs.clear()
        await self.relay.stop()

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def run_job(self, name: str) -> object:
        """Run one job now (tests and simulations drive jobs with a frozen clock)."""
        job = next(j for j in self.spec.jobs if j.name == name)
        return await job.run(self.sessionmaker, self.clock)

    async def _every(self, job: Job) -> None:
        while True:
            try:
                await job.run(self.sessionmaker, self.clock)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: job %s failed; it runs again next tick", self.name, job.name)
            await asyncio.sleep(job.every_seconds)


def runs(
    events: Sequence[Event[Any]], handlers: Mapping[EventKey, AnyHandler]
) -> Iterator[tuple[AnyHandler, list[Event[Any]]]]:
    """The events in log order, as calls: consecutive events of one `TakesRuns` handler
    together, every other event alone. Order across handlers is kept, so is each ticket's."""
    run: list[Event[Any]] = []
    current: AnyHandler | None = None
    for event_ in events:
        handler = handlers[(event_.type, event_.envelope.version)]
        if isinstance(handler, TakesRuns) and handler is current:
            run.append(event_)
            continue
        if current is not None:
            yield current, run
        current, run = handler, [event_]
    if current is not None:
        yield current, run


def to_apply(
    envelopes: Sequence[Envelope], handlers: Mapping[EventKey, AnyHandler]
) -> list[Envelope]:
    """The events of a batch this consumer handles, in log order, each event id once: an event
    redelivered within one batch is claimed once, so it must run once. Events of types it has
    no handler for are left out and not claimed; a version of a handled type it cannot read is
    kept, so that it fails loudly (dead-lettered) instead of being skipped."""
    types = {type_ for type_, _version in handlers}
    seen: set[UUID] = set()
    wanted: list[Envelope] = []
    for envelope in envelopes:
        if envelope.type in types and envelope.event_id not in seen:
            seen.add(envelope.event_id)
            wanted.append(envelope)
    return wanted


def session_dependency(service: str) -> Callable[[Request], AsyncIterator[AsyncSession]]:
    """A FastAPI dependency giving a session on `service`'s own database."""

    async def dependency(request: Request) -> AsyncIterator[AsyncSession]:
        runtime: ServiceRuntime = request.app.state.runtimes[service]
        async with AsyncExitStack() as stack:
            if runtime.request_slots is not None:
                await stack.enter_async_context(runtime.request_slots)
            yield await stack.enter_async_context(runtime.sessionmaker())

    return dependency


async def current_time(request: Request) -> datetime:
    clock: Clock = request.app.state.clock
    return clock.now()
