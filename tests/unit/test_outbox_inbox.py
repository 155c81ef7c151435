"""The transactional outbox, its relay and the inbox, on a real SQLite database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import FrozenClock
from shared.db import create_engine, new_metadata
from shared.events import Envelope, new_event
from shared.events.callback import TicketClosed
from shared.inbox import Inbox
from shared.outbox import PENDING_KEY, Outbox, OutboxRelay
from tests.support import counting_statements

AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
metadata = new_metadata()
outbox = Outbox(metadata, "test")
inbox = Inbox(metadata, "test")


class RecordingBus:
    """A bus double for the relay's unit tests: it records, or fails while `down`."""

    def __init__(self) -> None:
        self.published: list[Envelope] = []
        self.down = False

    async def publish(self, events: Sequence[Envelope]) -> None:
        if self.down:
            raise ConnectionError("broker unreachable")
        self.published.extend(events)


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


def relay(
    sessions: async_sessionmaker[AsyncSession],
    bus: RecordingBus,
    batch: int = 200,
    publish_timeout: float = 10.0,
) -> OutboxRelay:
    engine = sessions.kw["bind"]
    return OutboxRelay(
        outbox,
        engine,
        bus,  # type: ignore[arg-type]
        FrozenClock(AT),
        batch_size=batch,
        publish_timeout=publish_timeout,
    )


async def emit(
    sessions: async_sessionmaker[AsyncSession], ticket: str, n: int = 1
) -> list[Envelope]:
    async with sessions() as session, session.begin():
        return [
            await outbox.emit(
                session, TicketClosed(reason=f"r{i}"), ticket_id=ticket, occurred_at=AT
            )
            for i in range(n)
        ]


async def test_events_commit_and_roll_back_with_the_state_change(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await emit(sessions, "T1")
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            await outbox.emit(session, TicketClosed(reason="lost"), ticket_id="T2", occurred_at=AT)
            raise RuntimeError("the use case failed after emitting")
    async with sessions() as session:
        rows = (await session.execute(select(outbox.table.c.ticket_id))).scalars().all()
    assert rows == ["T1"]


async def test_relay_publishes_in_order_and_marks_published(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    emitted = await emit(sessions, "T1", 5)
    bus = RecordingBus()
    r = relay(sessions, bus, batch=2)
    assert [await r.publish_pending() for _ in range(4)] == [2, 2, 1, 0]
    assert [e.event_id for e in bus.published] == [e.event_id for e in emitted]
    async with sessions() as session:
        pending = await session.scalar(
            select(outbox.table.c.id).where(outbox.table.c.published_at.is_(None))
        )
    assert pending is None


async def test_emit_all_adds_a_run_of_events_as_emit_does_in_one_statement(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    one_by_one = await emit(sessions, "T1", 2)
    made = [
        new_event(TicketClosed(reason=f"r{i}"), ticket_id="T2", producer="test", occurred_at=AT)
        for i in range(3)
    ]
    engine = sessions.kw["bind"]
    async with sessions() as session, session.begin():
        with counting_statements(engine.sync_engine) as seen:
            await outbox.emit_all(session, made)
            await outbox.emit_all(session, [])  # nothing to add: no statement
        assert session.info[PENDING_KEY]  # the relay is woken at the commit, as after emit
    assert len(seen) == 1
    async with sessions() as session:
        rows = (await session.execute(select(outbox.table).order_by(outbox.table.c.id))).all()
    assert [r.event_id for r in rows] == [str(e.event_id) for e in [*one_by_one, *made]]
    # The same columns as emit writes: a body the relay publishes as the envelope itself.
    assert [(r.ticket_id, r.type, r.created_at) for r in rows[2:]] == [
        ("T2", "ticket.closed", AT)
    ] * 3
    assert [Envelope.model_validate_json(r.body) for r in rows[2:]] == made


async def test_relay_keeps_events_while_the_bus_is_down(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    emitted = await emit(sessions, "T1", 3)
    bus = RecordingBus()
    bus.down = True
    r = relay(sessions, bus)
    for _ in range(3):
        with pytest.raises(ConnectionError):
            await r.publish_pending()
    assert bus.published == []
    bus.down = False
    assert await r.publish_pending() == 3
    assert [e.event_id for e in bus.published] == [e.event_id for e in emitted]
    assert await r.publish_pending() == 0  # nothing published twice


async def test_inbox_claims_an_event_once_per_consumer(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    (event,) = await emit(sessions, "T1")
    claims = []
    for consumer in ("routing", "routing", "sla"):
        async with sessions() as session, session.begin():
            claims.append(
                await inbox.claim(
                    session,
                    consumer=consumer,
                    event_id=event.event_id,
                    event_type=event.type,
                    now=AT,
                )
            )
    assert claims == [True, False, True]


async def test_a_rolled_back_effect_releases_the_claim(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    (event,) = await emit(sessions, "T1")
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            assert await inbox.claim(
                session, consumer="routing", event_id=event.event_id, event_type=event.type, now=AT
            )
            raise RuntimeError("handler failed")
    async with sessions() as session, session.begin():
        assert await inbox.claim(
            session, consumer="routing", event_id=event.event_id, event_type=event.type, now=AT
        )
