"""sla publishes its calendar (工作日历): every change through the API adds one
`calendar.changed` to the outbox in the change's transaction, carrying the whole calendar after
it; a refused request writes none."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from shared.calendar import DEFAULT_WORKING_HOURS
from shared.events import Envelope
from shared.events.sla import CALENDAR_KEY, CalendarChanged
from tests.sla.support import emitted
from tests.support import OPERATOR, SUPERVISOR

SCHEDULE_2027 = {
    "holidays": ["2027-01-01", "2027-02-08"],
    "make_up_days": ["2027-02-20"],
    "note": "国务院办公厅关于2027年部分节假日安排的通知",
}


async def calendar_events(app: FastAPI) -> list[Envelope]:
    return await emitted(app, "calendar.changed")


async def change(
    app: FastAPI, client: httpx.AsyncClient, method: str, path: str, body: Any = None
) -> CalendarChanged:
    """Make one change through the API; the one event it added, parsed."""
    before = len(await calendar_events(app))
    r = await client.request(method, f"/api/v1/sla{path}", json=body, headers=SUPERVISOR)
    assert r.status_code == 200, r.text
    events = await calendar_events(app)
    assert len(events) == before + 1, "one event per change"
    last = events[-1]
    assert (last.ticket_id, last.producer) == (CALENDAR_KEY, "sla")
    data = last.data()
    assert isinstance(data, CalendarChanged)
    return data


async def test_each_calendar_change_publishes_the_whole_calendar(
    sla_app: FastAPI, sla_client: httpx.AsyncClient
) -> None:
    loaded = await change(sla_app, sla_client, "PUT", "/calendar/2027", SCHEDULE_2027)
    assert loaded.schedules == {
        2027: {date(2027, 1, 1): False, date(2027, 2, 8): False, date(2027, 2, 20): True}
    }
    assert loaded.overrides == {}
    assert loaded.working_hours == list(DEFAULT_WORKING_HOURS)

    overridden = await change(
        sla_app, sla_client, "PUT", "/calendar/days/2026-11-24", {"working": False, "note": "寒潮"}
    )
    assert overridden.overrides == {date(2026, 11, 24): False}
    assert overridden.schedules == loaded.schedules, "the whole calendar, not the change"

    hours = await change(
        sla_app,
        sla_client,
        "PUT",
        "/calendar/working-hours",
        {"periods": [{"start": "08:30", "end": "18:00"}]},
    )
    assert hours.working_hours == [(time(8, 30), time(18, 0))]
    assert hours.overrides == overridden.overrides

    removed = await change(sla_app, sla_client, "DELETE", "/calendar/days/2026-11-24")
    assert removed.overrides == {}
    assert removed.schedules == loaded.schedules
    assert removed.working_hours == hours.working_hours

    reloaded = await change(
        sla_app, sla_client, "PUT", "/calendar/2027", {**SCHEDULE_2027, "make_up_days": []}
    )
    assert reloaded.schedules == {2027: {date(2027, 1, 1): False, date(2027, 2, 8): False}}


async def test_reading_the_calendar_publishes_nothing(
    sla_app: FastAPI, sla_client: httpx.AsyncClient
) -> None:
    r = await sla_client.get("/api/v1/sla/calendar/2026", headers=SUPERVISOR)
    assert r.status_code == 200
    assert await calendar_events(sla_app) == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/calendar/2027", {"holidays": ["2028-01-01"]}),
        ("PUT", "/calendar/2027", {"holidays": ["2027-01-01"], "make_up_days": ["2027-01-01"]}),
        ("PUT", "/calendar/days/2200-01-01", {"working": False}),
        ("DELETE", "/calendar/days/2026-11-24", None),
        ("PUT", "/calendar/working-hours", {"periods": [{"start": "12:00", "end": "09:00"}]}),
        (
            "PUT",
            "/calendar/working-hours",
            {"periods": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "14:00"}]},
        ),
    ],
)
async def test_a_refused_change_publishes_nothing(
    sla_app: FastAPI,
    sla_client: httpx.AsyncClient,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    r = await sla_client.request(method, f"/api/v1/sla{path}", json=body, headers=SUPERVISOR)
    assert r.status_code in (404, 422), r.text
    assert await calendar_events(sla_app) == []


async def test_a_change_by_someone_not_allowed_publishes_nothing(
    sla_app: FastAPI, sla_client: httpx.AsyncClient
) -> None:
    r = await sla_client.put("/api/v1/sla/calendar/2027", json=SCHEDULE_2027, headers=OPERATOR)
    assert r.status_code == 403, r.text
    assert await calendar_events(sla_app) == []


async def test_the_calendar_is_announced_again_unchanged_on_request(
    sla_app: FastAPI, sla_client: httpx.AsyncClient
) -> None:
    loaded = await change(sla_app, sla_client, "PUT", "/calendar/2027", SCHEDULE_2027)
    denied = await sla_client.post("/api/v1/sla/calendar/announce", headers=OPERATOR)
    assert denied.status_code == 403
    r = await sla_client.post("/api/v1/sla/calendar/announce", headers=SUPERVISOR)
    assert r.status_code == 202, r.text
    events = await calendar_events(sla_app)
    assert len(events) == 2
    assert events[-1].data() == loaded  # the same calendar, announced again
    year = (await sla_client.get("/api/v1/sla/calendar/2027", headers=SUPERVISOR)).json()
    assert year["recomputed_clocks"] is None  # nothing changed, nothing recomputed
