"""Handlers are registered by payload class and receive that payload parsed (`Event[X]`): each
service's registration agrees with what its handlers declare, and an event version a consumer
cannot read fails loudly instead of being skipped."""

from __future__ import annotations

import importlib
import inspect
import types
import typing
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from services.bootstrap import SERVICE_NAMES
from shared.bus import EmbeddedBus, RetryPolicy
from shared.events import Event, UnknownEventType
from shared.runtime import ServiceRuntime, TakesRuns
from tests.unit.probe_consumer import applied, closed, create_tables, probe_runtime


def declared_payloads(handler: object) -> tuple[type, ...]:
    """The payload classes a handler's event parameter declares: X in `Event[X]` (or in
    `Sequence[Event[X]]` for a run handler), each member of a union."""
    fn = handler.apply if isinstance(handler, TakesRuns) else handler
    assert callable(fn)
    second = list(inspect.signature(fn).parameters)[1]
    hint = typing.get_type_hints(fn)[second]
    if typing.get_origin(hint) in (Sequence, typing.get_origin(Sequence[int])):
        hint = typing.get_args(hint)[0]
    assert typing.get_origin(hint) is Event, f"{fn!r} takes {hint}, not an Event"
    (payload,) = typing.get_args(hint)
    if typing.get_origin(payload) in (typing.Union, types.UnionType):
        return typing.get_args(payload)
    return (payload,)


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_handler_takes_the_payload_it_is_registered_for(service: str) -> None:
    handlers = importlib.import_module(f"{service}.handlers").HANDLERS
    assert handlers, f"{service} consumes nothing?"
    for model, handler in handlers.items():
        accepted = declared_payloads(handler)
        assert any(issubclass(model, a) for a in accepted), (
            f"{service}: {model.__name__} is registered to a handler taking {accepted}"
        )


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[ServiceRuntime]:
    bus = EmbeddedBus(tmp_path / "bus.db", RetryPolicy(max_attempts=1, backoff_seconds=0.01))
    runtime = probe_runtime(f"sqlite+aiosqlite:///{tmp_path / 'probe.db'}", bus, tmp_path)
    await create_tables(runtime)
    yield runtime
    await runtime.dispose()
    await bus.stop()


async def test_a_version_the_consumer_cannot_read_fails_the_batch(
    runtime: ServiceRuntime,
) -> None:
    newer = closed("from the future").model_copy(update={"version": 9})
    with pytest.raises(UnknownEventType, match="v9"):
        await runtime.deliver_batch([closed("a"), newer])
    assert await applied(runtime) == []  # the batch rolled back; the bus isolates the culprit
    await runtime.deliver_batch([closed("a")])
    assert await applied(runtime) == ["a"]
