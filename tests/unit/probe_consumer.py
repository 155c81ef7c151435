"""A small consumer service for the batch-delivery tests, on a real database.

Its one handler writes a row per applied event, so "applied exactly once" is a count of rows
that committed. The event's `reason` says what else it does: `poison` fails, `arm` creates the
ticket's switch, `stop` turns it off with a bulk UPDATE that skips the identity map (as sla stops
timers), and every event records the switch state it reads.

The switches handlers read are kept in `kept`, alive as anything referencing them would keep them
(a cache, a reference cycle not yet collected): the session's identity map holds objects only
weakly, so this is what lets a stale object reach a later handler if the session is shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter
from sqlalchemy import String, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.bus import Bus, Deliver, RetryPolicy
from shared.clock import FrozenClock
from shared.db import new_metadata
from shared.events import Envelope, Event, new_event
from shared.events.callback import TicketClosed
from shared.inbox import Inbox
from shared.outbox import Outbox
from shared.runtime import ServiceRuntime, ServiceSpec
from shared.settings import PlatformSettings, ServiceSettings

AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
RETRY = RetryPolicy(max_attempts=3, backoff_seconds=0.01)


class Base(DeclarativeBase):
    metadata = new_metadata()


inbox = Inbox(Base.metadata, "probe")
outbox = Outbox(Base.metadata, "probe")


class Applied(Base):
    __tablename__ = "probe_applied"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(String(64))
    seen: Mapped[str | None] = mapped_column(String(16))


kept: list[Switch] = []


class Switch(Base):
    __tablename__ = "probe_switches"

    ticket_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))


async def on_closed(session: AsyncSession, envelope: Event[TicketClosed]) -> None:
    reason = envelope.data.reason
    if reason == "poison":
        raise ValueError(f"poison event {envelope.event_id}")
    if reason == "arm":
        session.add(Switch(ticket_id=envelope.ticket_id, state="armed"))
    if reason == "stop":
        await session.execute(
            update(Switch)
            .where(Switch.ticket_id == envelope.ticket_id)
            .values(state="stopped")
            .execution_options(synchronize_session=False)
        )
    switch = await session.get(Switch, envelope.ticket_id)
    if switch is not None:
        kept.append(switch)
    session.add(
        Applied(
            event_id=str(envelope.event_id), reason=reason, seen=switch.state if switch else None
        )
    )


def closed(reason: str, ticket: str = "T1") -> Envelope:
    return new_event(TicketClosed(reason=reason), ticket_id=ticket, producer="test", occurred_at=AT)


def unhandled(ticket: str = "T1") -> Envelope:
    """An event type the probe has no handler for."""
    return closed("n/a", ticket).model_copy(update={"type": "ticket.something_else"})


def probe_runtime(
    database_url: str, bus: Bus, data_dir: Path, *, batch_size: int = 200
) -> ServiceRuntime:
    spec = ServiceSpec(
        name="probe",
        router=APIRouter(),
        metadata=Base.metadata,
        outbox=outbox,
        inbox=inbox,
        settings=ServiceSettings(database_url=database_url),
        handlers={TicketClosed: on_closed},
    )
    platform = PlatformSettings(data_dir=data_dir, consumer_batch_size=batch_size)
    return ServiceRuntime(spec, platform, bus, FrozenClock(AT))


async def create_tables(runtime: ServiceRuntime) -> None:
    kept.clear()
    async with runtime.engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)


async def applied(runtime: ServiceRuntime) -> list[str]:
    """The reasons of the events whose effect committed, in the order they were applied."""
    async with runtime.sessionmaker() as session:
        return list((await session.scalars(select(Applied.reason).order_by(Applied.id))).all())


async def seen(runtime: ServiceRuntime) -> list[str | None]:
    async with runtime.sessionmaker() as session:
        return list((await session.scalars(select(Applied.seen).order_by(Applied.id))).all())


async def claimed(runtime: ServiceRuntime) -> int:
    async with runtime.sessionmaker() as session:
        return len((await session.scalars(select(inbox.table.c.event_id))).all())


class Recorder:
    """Wraps a consumer's `Deliver` and records the reasons of every batch it was handed."""

    def __init__(self, deliver: Deliver) -> None:
        self.deliver = deliver
        self.calls: list[list[str]] = []

    async def __call__(self, batch: Sequence[Envelope]) -> None:
        self.calls.append([e.payload.get("reason", "?") for e in batch])
        await self.deliver(batch)
