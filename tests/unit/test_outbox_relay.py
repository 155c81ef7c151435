"""The outbox relay against a bus that hangs or a crash between publishing and marking, on real
SQLite (tests/distributed/test_outbox_relay_postgres.py runs them on PostgreSQL too).

Once the relay has timed out on a hung bus it holds no connection of the service's pool and no
open transaction (a hung broker used to hold them and starve the service's requests:
docs/faults.md; on SQLite the relay keeps its checkout, without a transaction, for the first
wait only); the batch it timed out on is sent once, not again at every retry. Delivery is
at least once: a crash between publishing and marking publishes again, and the consumer's
inbox drops the repeats."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy import select, text

from shared.events import Envelope
from shared.events.callback import TicketClosed
from shared.outbox import OutboxRelay, PublishTimeout
from shared.runtime import ServiceRuntime
from tests.unit.probe_consumer import AT, applied, claimed


class HangingBus:
    """A bus double that takes each batch and answers only when `release` is set: a paused
    broker. `failures` makes the next publishes fail (a broker that refuses)."""

    def __init__(self) -> None:
        self.calls = 0
        self.published: list[Envelope] = []
        self.release = asyncio.Event()
        self.release.set()
        self.failures = 0

    async def publish(self, events: Sequence[Envelope]) -> None:
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise ConnectionError("broker unreachable")
        await self.release.wait()
        self.published.extend(events)

    def reasons(self) -> list[str]:
        return [e.payload["reason"] for e in self.published]


def make_relay(runtime: ServiceRuntime, bus: HangingBus, timeout: float = 0.2) -> OutboxRelay:
    return OutboxRelay(
        runtime.spec.outbox,
        runtime.engine,
        bus,  # type: ignore[arg-type]
        runtime.clock,
        batch_size=3,
        publish_timeout=timeout,
    )


async def emit(runtime: ServiceRuntime, *reasons: str) -> None:
    async with runtime.sessionmaker() as session, session.begin():
        for reason in reasons:
            await runtime.spec.outbox.emit(
                session, TicketClosed(reason=reason), ticket_id="T1", occurred_at=AT
            )


async def unpublished(runtime: ServiceRuntime) -> int:
    table = runtime.spec.outbox.table
    async with runtime.sessionmaker() as session:
        rows = await session.scalars(select(table.c.id).where(table.c.published_at.is_(None)))
        return len(rows.all())


async def assert_nothing_held(runtime: ServiceRuntime, relay: OutboxRelay) -> None:
    """No connection of the service's pool is checked out, and on PostgreSQL no session of
    the database sits in a transaction; the relay's own connection (outside the pool) is idle
    and holds the outbox's lock."""
    assert runtime.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    if runtime.engine.dialect.name != "postgresql":
        return
    async with runtime.engine.connect() as conn:
        sessions = (
            await conn.execute(
                text(
                    "SELECT application_name, state FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        ).all()
        locks = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = :name"
            ),
            {"name": relay.application_name},
        )
    assert not [s for s in sessions if s.state != "idle"], sessions  # pooled ones are idle too
    assert [s.application_name for s in sessions].count(relay.application_name) == 1
    assert locks == 1


async def test_a_hung_bus_holds_no_connection_and_gets_the_batch_once(
    runtime: ServiceRuntime,
) -> None:
    await emit(runtime, "a", "b", "c", "d")
    bus = HangingBus()
    bus.release.clear()  # the broker stops answering
    relay = make_relay(runtime, bus)
    try:
        for _ in range(3):
            with pytest.raises(PublishTimeout):
                await relay.publish_pending()
            await assert_nothing_held(runtime, relay)
        # The service goes on writing meanwhile (SQLite's pool has one connection: a relay
        # holding it would make this wait).
        await asyncio.wait_for(emit(runtime, "e"), timeout=5)
        assert bus.calls == 1  # the batch in flight was waited for, not sent again

        bus.release.set()  # the broker answers
        assert [await relay.publish_pending() for _ in range(3)] == [3, 2, 0]
        assert bus.reasons() == ["a", "b", "c", "d", "e"]  # each once, in order
        assert await unpublished(runtime) == 0
    finally:
        await relay.stop()


async def test_a_refused_batch_is_read_and_published_again(runtime: ServiceRuntime) -> None:
    await emit(runtime, "a", "b")
    bus = HangingBus()
    bus.failures = 2
    relay = make_relay(runtime, bus)
    try:
        for _ in range(2):
            with pytest.raises(ConnectionError):
                await relay.publish_pending()
        await assert_nothing_held(runtime, relay)
        assert await relay.publish_pending() == 2
        assert bus.reasons() == ["a", "b"]
        assert await unpublished(runtime) == 0
    finally:
        await relay.stop()


async def test_a_failed_mark_is_retried_without_publishing_again(
    runtime: ServiceRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    await emit(runtime, "a", "b")
    bus = HangingBus()
    relay = make_relay(runtime, bus)
    mark = relay._mark

    async def database_gone(conn: object) -> int:
        raise ConnectionError("database unreachable")

    try:
        monkeypatch.setattr(relay, "_mark", database_gone)
        with pytest.raises(ConnectionError):
            await relay.publish_pending()
        monkeypatch.setattr(relay, "_mark", mark)
        assert await relay.publish_pending() == 2
        assert bus.reasons() == ["a", "b"]  # published once, marked at the second try
        assert await relay.publish_pending() == 0
    finally:
        await relay.stop()


async def test_a_crash_between_publishing_and_marking_publishes_again_and_the_inbox_drops_it(
    runtime: ServiceRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    await emit(runtime, "a", "b")
    bus = HangingBus()
    crashed = make_relay(runtime, bus)

    async def crash(conn: object) -> int:
        raise RuntimeError("the process died before marking")

    monkeypatch.setattr(crashed, "_mark", crash)
    with pytest.raises(RuntimeError):
        await crashed.publish_pending()
    await crashed.stop()  # its connection closes, as a dead process's does (its lock goes)

    restarted = make_relay(runtime, bus)
    try:
        assert await restarted.publish_pending() == 2
    finally:
        await restarted.stop()
    assert bus.reasons() == ["a", "b", "a", "b"]  # at least once: the batch went twice
    assert await unpublished(runtime) == 0

    # The consumer gets both copies, as a broker delivers them: the repeats change nothing.
    await runtime.deliver_batch(bus.published[:2])
    await runtime.deliver_batch(bus.published[2:])
    assert await applied(runtime) == ["a", "b"]
    assert await claimed(runtime) == 2
