"""Consumers apply events in batches, on real SQLite: one transaction and one bulk inbox claim
per batch, one offset write per batch on the embedded bus, and a failing event isolated, retried
alone and dead-lettered while the rest of its batch is applied exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, select

from shared.bus import EmbeddedBus, bus_log, bus_offsets
from shared.events import Envelope
from shared.runtime import ServiceRuntime, to_apply
from shared.settings import PlatformSettings
from tests.unit.probe_consumer import (
    AT,
    RETRY,
    Recorder,
    applied,
    claimed,
    closed,
    probe_runtime,
    seen,
    unhandled,
)


class Statements:
    """Counts the SQL statements an engine runs that start with a prefix (e.g. INSERT INTO x)."""

    def __init__(self, engine: Any) -> None:
        self.sql: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._record)
        self.commits = 0
        event.listen(engine.sync_engine, "commit", self._commit)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.sql.append(" ".join(statement.split()))

    def _commit(self, _conn: Any) -> None:
        self.commits += 1

    def count(self, prefix: str) -> int:
        return sum(s.startswith(prefix) for s in self.sql)


async def eventually_true(probe: Any, what: str, timeout: float = 20) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await probe():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def queue(path: Path, *events: Envelope | str) -> None:
    """Append to the log before any consumer looks (a string is appended as a raw body)."""
    producer = EmbeddedBus(path, RETRY)
    await producer.start()
    for e in events:
        if isinstance(e, str):
            async with producer.engine.begin() as conn:
                await conn.execute(insert(bus_log).values(ticket_id="T1", body=e))
        else:
            await producer.publish([e])
    await producer.stop()


async def committed_offset(bus: EmbeddedBus, consumer: str) -> int:
    async with bus.engine.connect() as conn:
        value = await conn.scalar(
            select(bus_offsets.c.offset).where(bus_offsets.c.consumer == consumer)
        )
    return int(value or 0)


# --- the batch in the consumer: one transaction ---------------------------------------------


def test_a_batch_keeps_log_order_drops_repeats_and_events_without_a_handler() -> None:
    a, b = closed("a"), closed("b")
    handlers = {("ticket.closed", 1): object()}
    assert to_apply([a, unhandled(), b, a], handlers) == [a, b]  # type: ignore[arg-type]


async def test_a_batch_is_one_transaction_with_one_inbox_claim(runtime: ServiceRuntime) -> None:
    statements = Statements(runtime.engine)
    await runtime.deliver_batch([closed(str(i)) for i in range(5)])
    assert await applied(runtime) == ["0", "1", "2", "3", "4"]
    assert statements.commits == 1
    assert statements.count("INSERT INTO probe_inbox") == 1


async def test_the_inbox_claim_returns_only_events_not_claimed_before(
    runtime: ServiceRuntime,
) -> None:
    a, b, c = closed("a"), closed("b"), closed("c")
    async with runtime.sessionmaker() as session, session.begin():
        first = await runtime.spec.inbox.claim_all(
            session, consumer="probe", events=[(a.event_id, a.type), (b.event_id, b.type)], now=AT
        )
    async with runtime.sessionmaker() as session, session.begin():
        second = await runtime.spec.inbox.claim_all(
            session, consumer="probe", events=[(b.event_id, b.type), (c.event_id, c.type)], now=AT
        )
    assert (first, second) == ({a.event_id, b.event_id}, {c.event_id})


async def test_a_failing_event_rolls_its_whole_batch_back(runtime: ServiceRuntime) -> None:
    with pytest.raises(ValueError, match="poison"):
        await runtime.deliver_batch([closed("1"), closed("poison"), closed("3")])
    assert await applied(runtime) == []
    assert await claimed(runtime) == 0  # the claims rolled back too: a retry applies them


async def test_a_redelivered_batch_and_a_repeat_within_a_batch_change_nothing(
    runtime: ServiceRuntime,
) -> None:
    batch = [closed("1"), closed("2")]
    await runtime.deliver_batch([*batch, batch[0]])
    await runtime.deliver_batch([closed("3"), *batch])
    assert await applied(runtime) == ["1", "2", "3"]


async def test_events_without_a_handler_are_skipped_and_not_claimed(
    runtime: ServiceRuntime,
) -> None:
    await runtime.deliver_batch([unhandled(), closed("1"), unhandled()])
    assert await applied(runtime) == ["1"]
    assert await claimed(runtime) == 1


async def test_each_handler_reads_what_the_earlier_ones_in_the_batch_wrote(
    runtime: ServiceRuntime,
) -> None:
    # `stop` updates the row behind the session's back; `look` must not see the stale object.
    await runtime.deliver_batch([closed("arm"), closed("stop"), closed("look")])
    assert await seen(runtime) == ["armed", "stopped", "stopped"]


async def test_the_batch_size_is_a_platform_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOTLINE_CONSUMER_BATCH_SIZE", "7")
    assert PlatformSettings().consumer_batch_size == 7

    class Subscriptions:
        def __init__(self) -> None:
            self.batch_sizes: dict[str, int] = {}

        def subscribe(self, consumer: str, deliver: object, *, batch_size: int) -> None:
            self.batch_sizes[consumer] = batch_size

    bus = Subscriptions()
    url = f"sqlite+aiosqlite:///{tmp_path / 'probe.db'}"
    runtime = probe_runtime(url, bus, tmp_path, batch_size=7)  # type: ignore[arg-type]
    runtime.subscribe()
    assert bus.batch_sizes == {"probe": 7}
    await runtime.dispose()


# --- through the embedded bus ---------------------------------------------------------------


async def test_queued_events_arrive_in_batches_with_one_offset_write_each(
    runtime: ServiceRuntime, bus: EmbeddedBus
) -> None:
    recorder = Recorder(runtime.deliver_batch)
    bus.subscribe("probe", recorder, batch_size=200)
    await bus.start()  # creates the log; the consumer finds it empty and waits
    statements = Statements(bus.engine)
    await bus.publish([closed(str(i)) for i in range(450)])

    async def caught_up() -> bool:
        return await committed_offset(bus, "probe") == 450

    await eventually_true(caught_up, "the consumer to reach the end of the log")
    assert [len(call) for call in recorder.calls] == [200, 200, 50]
    assert statements.count("INSERT INTO bus_offsets") == 3
    assert await applied(runtime) == [str(i) for i in range(450)]


async def test_a_poison_event_mid_batch_is_dead_lettered_and_the_rest_applied_once(
    tmp_path: Path, runtime: ServiceRuntime, bus: EmbeddedBus
) -> None:
    # The whole log is there before the consumer looks, so it comes as one batch.
    await queue(
        tmp_path / "bus.db",
        closed("1"),
        closed("2"),
        "{not json",
        closed("4"),
        closed("poison"),
        closed("6"),
        closed("7"),
    )
    recorder = Recorder(runtime.deliver_batch)
    bus.subscribe("probe", recorder)
    await bus.start()

    async def caught_up() -> bool:
        return await committed_offset(bus, "probe") == 7

    await eventually_true(caught_up, "the consumer to pass the poison event")
    assert await applied(runtime) == ["1", "2", "4", "6", "7"]  # each once, in log order
    letters = await bus.dead_letters()
    assert [(d["offset"], d["consumer"]) for d in letters] == [(3, "probe"), (5, "probe")]
    assert "poison event" in str(letters[1]["error"])
    # One try as a batch, then one event at a time: the poison one with all its retries.
    assert recorder.calls[0] == ["1", "2", "4", "poison", "6", "7"]
    assert recorder.calls[1:] == [["1"], ["2"], ["4"], *[["poison"]] * 3, ["6"], ["7"]]


async def test_a_crash_between_the_transaction_and_the_offset_write_changes_nothing(
    tmp_path: Path, runtime: ServiceRuntime, bus: EmbeddedBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    crashed = asyncio.Event()

    async def die_before_the_offset_write(consumer: str, offset: int) -> None:
        crashed.set()
        await asyncio.Event().wait()  # the process is gone: nothing after this runs

    monkeypatch.setattr(bus, "_commit", die_before_the_offset_write)
    bus.subscribe("probe", runtime.deliver_batch)
    await bus.start()
    await bus.publish([closed(str(i)) for i in range(5)])
    await asyncio.wait_for(crashed.wait(), timeout=20)
    await bus.stop()
    assert await applied(runtime) == ["0", "1", "2", "3", "4"]  # the transaction committed
    assert await committed_offset(bus, "probe") == 0  # the offset did not

    # After the restart the whole batch comes again; the inbox drops every event of it.
    restarted = EmbeddedBus(tmp_path / "bus.db", RETRY, poll_seconds=0.05)
    recorder = Recorder(runtime.deliver_batch)
    restarted.subscribe("probe", recorder)
    await restarted.start()
    try:
        await restarted.publish([closed("5")])

        async def caught_up() -> bool:
            return await committed_offset(restarted, "probe") == 6

        await eventually_true(caught_up, "the restarted consumer to catch up")
    finally:
        await restarted.stop()
    assert [r for call in recorder.calls for r in call][:5] == ["0", "1", "2", "3", "4"]
    assert await applied(runtime) == ["0", "1", "2", "3", "4", "5"]
