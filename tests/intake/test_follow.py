"""intake follows tickets through the other services' events a run at a time: the same status,
lead, deadline and timeline as one at a time, with one read of the run's tickets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from services import demo
from services.bootstrap import build_app
from shared.clock import FrozenClock
from shared.events import Envelope, Event, Payload
from shared.events.routing import ProgressNoted, WhistleReported
from shared.events.sla import ClockStarted
from shared.runtime import AnyHandler, EventKey, TakesRuns, runs
from shared.settings import PlatformSettings
from tests.intake.test_storm import post, storm_report
from tests.sla.support import dispatched, event
from tests.support import OPERATOR, counting_statements


def clock_started(ticket_id: str, assignment_id: str, clock: FrozenClock) -> Envelope:
    at = clock.now()
    payload = ClockStarted.model_validate(
        {
            "clock_id": f"K-{assignment_id}",
            "assignment_id": assignment_id,
            "unit_id": "U-BJ01-CG",
            "policy": "P-complaint",
            "sign_by": at + timedelta(hours=2),
            "respond_by": at + timedelta(hours=24),
            "complete_by": at + timedelta(days=5),
            "reason": "extended",
        }
    )
    return event(payload, ticket_id, at, "sla")


def test_runs_group_consecutive_events_of_one_run_handler_only() -> None:
    async def single(session: AsyncSession, event: Event[Any]) -> None: ...

    async def many(session: AsyncSession, events: Sequence[Event[Any]]) -> None: ...

    together = TakesRuns(many)
    handlers: dict[EventKey, AnyHandler] = {
        ("a", 1): together,
        ("b", 1): together,
        ("c", 1): single,
    }
    types = ["a", "b", "c", "c", "a", "a"]
    events = [Event(Envelope.model_construct(type=t, version=1), Payload()) for t in types]  # type: ignore[call-arg]
    calls = [(h, [e.type for e in run]) for h, run in runs(events, handlers)]
    assert calls == [
        (together, ["a", "b"]),
        (single, ["c"]),
        (single, ["c"]),
        (together, ["a", "a"]),
    ]


@pytest.fixture
async def intake_alone(
    platform: PlatformSettings, clock: FrozenClock
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """intake without the other services, so only the events this test feeds arrive."""
    app = build_app(
        ["intake"], platform=platform.model_copy(update={"load_demo": False}), clock=clock
    )
    async with app.router.lifespan_context(app):
        await demo.load_directory(app.state.runtimes)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
            yield app, client


async def test_a_run_of_progress_is_one_read_of_its_tickets_and_one_insert(
    intake_alone: tuple[FastAPI, httpx.AsyncClient], clock: FrozenClock
) -> None:
    app, api = intake_alone
    runtime = app.state.runtimes["intake"]
    ids = [(await post(api, storm_report(i)))["id"] for i in range(5)]
    run = [dispatched(t, f"A-{t}", clock.now()) for t in ids]
    run += [clock_started(t, f"A-{t}", clock) for t in ids]
    with counting_statements(runtime.engine.sync_engine) as statements:
        await runtime.deliver_batch(run)
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    reads = [s for s in statements if "FROM intake_tickets" in s]
    assert len(reads) == 1, reads  # not one per event
    # the inbox claim, the timeline lines, the tickets' new state (one UPDATE each)
    assert len(writes) <= 2 + len(ids), writes
    for ticket_id in ids:
        ticket = (await api.get(f"/api/v1/tickets/{ticket_id}", headers=OPERATOR)).json()
        assert ticket["status"] == "dispatched" and ticket["lead_unit"]["id"] == "U-BJ01-CG"
        assert ticket["expected_at"] is not None
        lines = [line["event"] for line in ticket["timeline"]]
        assert [e for e in lines if e != "ticket.cluster_flagged"] == [
            "ticket.received",
            "ticket.dispatched",
            "sla.clock_started",
        ]


async def test_progress_notes_and_whistle_reports_reach_the_citizens_timeline(
    intake_alone: tuple[FastAPI, httpx.AsyncClient], clock: FrozenClock
) -> None:
    app, api = intake_alone
    runtime = app.state.runtimes["intake"]
    ticket_id = (await post(api, storm_report(0)))["id"]
    at = clock.now()
    await runtime.deliver_batch(
        [
            dispatched(ticket_id, "A-1", at),
            event(
                ProgressNoted(note_id="N1", assignment_id="A-1", unit_id="U-BJ01-CG"),
                ticket_id,
                at,
                "routing",
            ),
            event(
                WhistleReported(whistle_id="W1", unit_id="U-BJ-SJ", respond_by=at, late=True),
                ticket_id,
                at,
                "routing",
            ),
            event(
                WhistleReported(whistle_id="W1", unit_id="U-BJ-ZJ", respond_by=at, late=False),
                ticket_id,
                at,
                "routing",
            ),
        ]
    )
    ticket = (await api.get(f"/api/v1/tickets/{ticket_id}", headers=OPERATOR)).json()
    texts: dict[str, list[str]] = {}
    for line in ticket["timeline"]:
        texts.setdefault(line["event"], []).append(line["text"])
    assert texts["assignment.progress_noted"] == ["承办单位更新了办理进展"]
    assert texts["whistle.reported"] == ["被召集部门已报到（超时）", "被召集部门已按时报到"]
    assert ticket["status"] == "dispatched"  # neither moves the status
