"""The dead-letter replay command on the embedded bus: a poison event is dead-lettered with its
error, listed, replayed after the fix and applied exactly once; one event dead-lettered by two
consumers is re-published once; a body that is no envelope is never replayed."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import pytest
from fastapi import FastAPI
from sqlalchemy import func, insert, select

from routing.models import Addition, RoutedTicket
from services import deadletters_cli
from shared.bus import bus_dead_letters, bus_log, bus_offsets
from shared.deadletters import EmbeddedDeadLetters, replay
from shared.runtime import ServiceRuntime
from shared.settings import PlatformSettings
from tests.faults import poison
from tests.support import MONDAY_10AM, eventually


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = await deadletters_cli.run(list(argv))
    return code, capsys.readouterr().out


async def _count(runtime: ServiceRuntime, statement: object) -> int:
    async with runtime.sessionmaker() as session:
        return int(await session.scalar(statement) or 0)  # type: ignore[call-overload]


async def test_poison_is_dead_lettered_then_replayed_once_after_the_fix(
    app: FastAPI,
    platform: PlatformSettings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(platform.data_dir))
    monkeypatch.delenv("HOTLINE_KAFKA_BOOTSTRAP", raising=False)
    routing: ServiceRuntime = app.state.runtimes["routing"]
    store = EmbeddedDeadLetters(platform.data_dir / "bus.db")
    ticket = poison.ticket_id()
    bad = poison.addition(ticket, MONDAY_10AM)
    additions = select(func.count()).select_from(Addition).where(Addition.ticket_id == ticket)
    try:
        await app.state.bus.publish([bad])

        async def dead() -> list[object]:
            return [d for d in await store.dead_letters() if d.event_id == bad.event_id]

        (letter,) = await eventually(dead, timeout=20, what="the poison's dead letter")
        assert letter.consumer == "routing" and "unknown ticket" in letter.error  # type: ignore[attr-defined]

        code, out = await cli(capsys, "list", "--json")
        listed = [json.loads(line) for line in out.splitlines()]
        assert code == 0
        assert [(d["event_id"], d["consumer"]) for d in listed] == [(str(bad.event_id), "routing")]
        assert "unknown ticket" in listed[0]["error"]

        # The fix: the event routing was missing arrives.
        await app.state.bus.publish([poison.received(ticket, MONDAY_10AM)])

        async def known() -> bool:
            query = select(func.count()).select_from(RoutedTicket).where(RoutedTicket.id == ticket)
            return await _count(routing, query) == 1

        await eventually(known, timeout=20, what="routing to learn the ticket")
        assert await _count(routing, additions) == 0

        code, out = await cli(capsys, "replay", "--event-id", str(bad.event_id))
        assert code == 0 and f"replayed {bad.event_id} → log@" in out

        async def applied() -> bool:
            return await _count(routing, additions) == 1

        await eventually(applied, timeout=20, what="the replayed addition")

        # Listed as replayed, no longer pending; a second replay is refused without --again.
        assert (await cli(capsys, "list"))[1].strip() == "0 dead letter(s) pending"
        assert "replayed" in (await cli(capsys, "list", "--all"))[1]
        assert (await cli(capsys, "replay", "--event-id", str(bad.event_id)))[0] == 1

        # Replayed again on purpose: routing's inbox drops it, the effect stays single.
        code, out = await cli(capsys, "replay", "--event-id", str(bad.event_id), "--again")
        offset = int(out.split("log@")[1].split()[0])

        async def passed() -> bool:
            async with store.engine.connect() as conn:
                done = await conn.scalar(
                    select(bus_offsets.c.offset).where(bus_offsets.c.consumer == "routing")
                )
            return (done or 0) >= offset

        await eventually(passed, timeout=20, what="routing to read the second replay")
        assert await _count(routing, additions) == 1
        assert [d.event_id for d in await store.dead_letters()] == [bad.event_id]
    finally:
        await store.close()


async def test_one_event_dead_lettered_by_two_consumers_is_published_once(tmp_path: Path) -> None:
    store = EmbeddedDeadLetters(tmp_path / "bus.db")
    event = poison.addition(poison.ticket_id(), MONDAY_10AM)
    try:
        await store.dead_letters()  # creates the tables
        async with store.engine.begin() as conn:
            await conn.execute(
                insert(bus_dead_letters),
                [
                    {"consumer": c, "offset": 7, "body": event.model_dump_json(), "error": "boom"}
                    for c in ("routing", "sla")
                ]
                + [{"consumer": "sla", "offset": 8, "body": "{not json", "error": "bad"}],
            )
        done = await replay(store, everything=True)
        assert [event_id for event_id, _ in done.published] == [event.event_id]
        assert sorted(done.recorded) == ["1", "2"]
        assert done.skipped == [("3", "not an envelope: nothing to replay")]
        async with store.engine.connect() as conn:
            bodies = (await conn.scalars(select(bus_log.c.body))).all()
        assert [UUID(json.loads(b)["event_id"]) for b in bodies] == [event.event_id]
        # Nothing pending is left to replay, and an unknown id is said to be unknown.
        again = await replay(store, everything=True)
        assert again.published == []
        missing = await replay(store, event_ids=[UUID(int=1)])
        assert missing.skipped == [(str(UUID(int=1)), "no dead letter with this event id")]
    finally:
        await store.close()
