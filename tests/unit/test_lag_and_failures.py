"""What operators see of a consumer on the embedded bus: its lag grows while it is stopped and
returns to zero when it catches up; a failing handler shows its retries, its dead letter and
its last error; a log that went backwards (the broker lost events) is a regression, loudly."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete

from shared import metrics
from shared.bus import EmbeddedBus, bus_log
from shared.runtime import ServiceRuntime
from tests.unit.probe_consumer import RETRY, applied, closed
from tests.unit.test_batch_delivery import committed_offset, eventually_true, queue


def value(metric: object, *labels: str) -> float:
    return float(metric.labels(*labels)._value.get())  # type: ignore[attr-defined]


async def test_a_stopped_consumer_shows_growing_lag_and_none_once_caught_up(
    tmp_path: Path, runtime: ServiceRuntime, bus: EmbeddedBus
) -> None:
    await queue(tmp_path / "bus.db", closed("1"), closed("2"))
    bus.subscribe("probe", runtime.deliver_batch)
    assert (await bus.lag("probe")).behind == 2  # subscribed, not started: nothing handled
    await queue(tmp_path / "bus.db", closed("3"))
    assert (await bus.lag("probe")).behind == 3
    await bus.start()

    async def caught_up() -> bool:
        lag = await bus.lag("probe")
        return lag.behind == 0 and lag.behind_seconds == 0

    await eventually_true(caught_up, "the consumer to catch up")
    assert await applied(runtime) == ["1", "2", "3"]


async def test_a_failing_handler_shows_retries_a_dead_letter_and_its_error(
    tmp_path: Path, runtime: ServiceRuntime, bus: EmbeddedBus
) -> None:
    before = (value(metrics.RETRIES, "probe"), value(metrics.DEAD_LETTERS, "probe"))
    await queue(tmp_path / "bus.db", closed("1"), closed("poison"), closed("3"))
    bus.subscribe("probe", runtime.deliver_batch)
    await bus.start()

    async def passed() -> bool:
        return await committed_offset(bus, "probe") == 3

    await eventually_true(passed, "the consumer to pass the poison event")
    assert value(metrics.RETRIES, "probe") - before[0] == RETRY.max_attempts - 1
    assert value(metrics.DEAD_LETTERS, "probe") - before[1] == 1
    when, error = metrics.LAST_ERRORS["probe"]
    assert "poison event" in error and when is not None


async def test_a_log_that_went_backwards_is_a_regression(
    tmp_path: Path, runtime: ServiceRuntime, bus: EmbeddedBus, caplog: pytest.LogCaptureFixture
) -> None:
    await queue(tmp_path / "bus.db", closed("1"), closed("2"))
    bus.subscribe("probe", runtime.deliver_batch)
    await bus.start()

    async def passed() -> bool:
        return await committed_offset(bus, "probe") == 2

    await eventually_true(passed, "the consumer to handle both")
    async with bus.engine.begin() as conn:  # the broker "lost" its log
        await conn.execute(delete(bus_log))
    lag = await bus.lag("probe")
    assert lag.regressions == 1
    assert any("events are lost" in r.getMessage() for r in caplog.records)


async def test_a_database_outage_is_waited_out_not_dead_lettered() -> None:
    """Connection errors do not use up an event's attempts; an error of the event does."""
    from sqlalchemy.exc import OperationalError

    from shared.bus import deliver_with_retry
    from shared.db import is_outage

    calls: list[str] = []

    async def deliver(batch: object) -> None:
        calls.append("try")
        if len(calls) <= 5:  # the database restarts: five refusals in a row
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError(111, "refused"))

    error = await deliver_with_retry(deliver, closed("1"), RETRY, "probe")
    assert (
        error is None and len(calls) == 6
    )  # more than max_attempts (3): the outage was waited out
    assert is_outage(ConnectionRefusedError()) and not is_outage(ValueError("bad payload"))
    # A missing table is a bug, not an outage: it must not block the consumer forever.
    missing = OperationalError("SELECT x", {}, Exception("no such table: x"))
    assert not is_outage(missing)

    async def broken(batch: object) -> None:
        raise ValueError("bad payload")

    error = await deliver_with_retry(broken, closed("2"), RETRY, "probe")
    assert isinstance(error, ValueError)  # dead-lettered after its three attempts
