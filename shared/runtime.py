"""What a service is (`ServiceSpec`, declared by each service's app.py) and how it runs
(`ServiceRuntime`: its engine, migrations, outbox relay, inbox-guarded consumer and jobs)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import APIRouter, Request
from sqlalchemy import MetaData, event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from shared import db, migrations
from shared.bus import Bus, stop_tasks
from shared.clock import Clock
from shared.events import Envelope
from shared.inbox import Inbox
from shared.outbox import PENDING_KEY, Outbox, OutboxRelay
from shared.settings import PlatformSettings, ServiceSettings

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]
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
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    jobs: Sequence[Job] = ()


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

        # Commits that added events wake the relay at once instead of at its next poll.
        session_class = type(f"{spec.name.title()}Session", (Session,), {})
        event.listen(session_class, "after_commit", self._after_commit)
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=session_class
        )
        self.relay = OutboxRelay(
            spec.outbox,
            self.sessionmaker,
            bus,
            clock,
            poll_seconds=platform.outbox_poll_seconds,
            batch_size=platform.outbox_batch_size,
        )
        self._jobs: list[asyncio.Task[None]] = []

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(PENDING_KEY, False):
            self.relay.nudge()

    async def migrate(self) -> None:
        await migrations.upgrade(self.engine, self.name)

    def subscribe(self) -> None:
        if self.spec.handlers:
            self.bus.subscribe(self.name, self.deliver)

    async def deliver(self, envelope: Envelope) -> None:
        """Claim the event in the inbox and apply its handler in one transaction."""
        handler = self.spec.handlers.get(envelope.type)
        if handler is None:
            return
        async with self.sessionmaker() as session, session.begin():
            claimed = await self.spec.inbox.claim(
                session,
                consumer=self.name,
                event_id=envelope.event_id,
                event_type=envelope.type,
                now=self.clock.now(),
            )
            if claimed:
                await handler(session, envelope)

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


def session_dependency(service: str) -> Callable[[Request], AsyncIterator[AsyncSession]]:
    """A FastAPI dependency giving a session on `service`'s own database."""

    async def dependency(request: Request) -> AsyncIterator[AsyncSession]:
        runtime: ServiceRuntime = request.app.state.runtimes[service]
        async with runtime.sessionmaker() as session:
            yield session

    return dependency


async def current_time(request: Request) -> datetime:
    clock: Clock = request.app.state.clock
    return clock.now()
