"""sla's HTTP API: policies and calendar CRUD with recomputation, extensions, supervision,
lists, bad input (problem+json, nothing changes) and access by role."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from shared.auth import Role
from shared.clock import FrozenClock
from shared.events import Envelope, new_event
from shared.events.intake import ClusterFlagged
from tests.sla.support import (
    ASSIST,
    LEAD,
    closed,
    dispatched,
    emitted,
    extension_requested,
    feed,
    progress,
    received,
    tick,
    ticket_replied,
)
from tests.support import OPERATOR, SUPERVISOR, bearer, counting_statements

CHINA = ZoneInfo("Asia/Shanghai")
UNIT = bearer(Role.UNIT, LEAD)
OTHER_UNIT = bearer(Role.UNIT, ASSIST)
ORDINARY = {
    "urgency": "ordinary",
    "sign": {"amount": 1, "unit": "working_days"},
    "response": {"amount": 1, "unit": "working_days"},
    "completion": {"amount": 3, "unit": "working_days"},
}


async def start_ticket(app: FastAPI, clock: FrozenClock, tid: str = "T1", aid: str = "A1") -> None:
    at = clock.now()
    await feed(app, received(tid, at), dispatched(tid, aid, at))


async def deadlines(client: httpx.AsyncClient, tid: str = "T1") -> dict[str, dict[str, str]]:
    r = await client.get(f"/api/v1/sla/tickets/{tid}", headers=SUPERVISOR)
    assert r.status_code == 200, r.text
    body = r.json()
    return {
        k["id"]: {t["stage"]: t["due_at"] for t in k["timers"] if t["kind"] == "deadline"}
        for k in [*body["clocks"], *body["ticket_clocks"]]
    }


def problem(r: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    if field:
        assert field in r.text, body
    return body


# ------------------------------------------------------------------------------ clocks, lists


async def test_a_ticket_has_unit_clocks_and_a_round_clock_with_history(
    sla_app: FastAPI, sla_client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    at = clock.now()  # Monday 2026-11-23 10:00
    await feed(
        sla_app,
        received("T1", at),
        dispatched("T1", "A1", at),
        dispatched("T1", "B1", at, unit_id=ASSIST, role="assist", unit_name="长安街道办事处"),
    )
    r = await sla_client.get("/api/v1/sla/tickets/T1", headers=SUPERVISOR)
    body = r.json()
    assert body["expected_completion"] == "2026-12-01T00:00:00+08:00"
    assert [k["id"] for k in body["ticket_clocks"]] == ["TT1-R1"]
    assert sorted(k["id"] for k in body["clocks"]) == ["KA1", "KB1"]
    assert {h["what"] for h in body["history"]} == {"started"}
    # a unit sees only its own clocks
    mine = (await sla_client.get("/api/v1/sla/tickets/T1/clocks", headers=OTHER_UNIT)).json()
    assert [k["id"] for k in mine] == ["KB1"]

    clock.advance(timedelta(hours=10))  # Monday 20:00: sign-off and response due at 24:00 Tue
    soon = (await sla_client.get("/api/v1/sla/due-soon?within_hours=30", headers=UNIT)).json()
    assert {(d["clock_id"], d["stage"]) for d in soon} == {("KA1", "sign"), ("KA1", "response")}
    area = await sla_client.get(
        "/api/v1/sla/due-soon?within_hours=30&area_code=BJ01", headers=SUPERVISOR
    )
    assert len(area.json()) == 4
    none = await sla_client.get(
        "/api/v1/sla/due-soon?within_hours=30&area_code=BJ02", headers=SUPERVISOR
    )
    assert none.json() == []

    await feed(sla_app, progress("signed", "T1", "A1", clock.now()))
    clock.advance(timedelta(days=2))
    await tick(sla_app)
    overdue = (await sla_client.get("/api/v1/sla/overdue", headers=SUPERVISOR)).json()
    assert sorted((o["clock_id"], o["stage"]) for o in overdue) == [
        ("KA1", "response"),
        ("KB1", "response"),
        ("KB1", "sign"),
    ]
    mine = (await sla_client.get("/api/v1/sla/overdue", headers=UNIT)).json()
    assert [(o["clock_id"], o["stage"]) for o in mine] == [("KA1", "response")]
    # a unit cannot look at another unit's list by asking for it
    theirs = (await sla_client.get(f"/api/v1/sla/overdue?unit_id={ASSIST}", headers=UNIT)).json()
    assert all(o["unit_id"] == LEAD for o in theirs)


async def test_return_and_redispatch_give_the_new_unit_a_fresh_clock(
    sla_app: FastAPI, sla_client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await start_ticket(sla_app, clock)
    first = await deadlines(sla_client)
    clock.advance(timedelta(days=1))
    later = clock.now()
    await feed(sla_app, dispatched("T1", "A2", later, unit_id=ASSIST, dispatch_count=2))
    now = await deadlines(sla_client)
    assert now["TT1-R1"] == first["TT1-R1"], "the ticket's clock keeps running"
    assert now["KA2"]["completion"] > first["KA1"]["completion"], "a fresh clock for the new unit"
    body = (await sla_client.get("/api/v1/sla/tickets/T1", headers=SUPERVISOR)).json()
    status = {k["id"]: k["status"] for k in body["clocks"]}
    assert status == {"KA1": "redispatched", "KA2": "open"}
    assert body["ticket_clocks"][0]["unit_id"] == ASSIST


# ------------------------------------------------------------------------------ calendar


async def test_a_calendar_change_recomputes_open_clocks_and_never_closed_ones(
    sla_app: FastAPI, sla_client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await start_ticket(sla_app, clock, "T1", "A1")
    await start_ticket(sla_app, clock, "T2", "A2")
    await feed(
        sla_app,
        progress("replied", "T2", "A2", clock.now() + timedelta(hours=1)),
        ticket_replied("T2", "A2", clock.now() + timedelta(hours=1)),
    )
    before = await deadlines(sla_client, "T1")
    closed_before = await deadlines(sla_client, "T2")
    r = await sla_client.put(
        "/api/v1/sla/calendar/days/2026-11-24",
        json={"working": False, "note": "全市停工（寒潮）"},
        headers=SUPERVISOR,
    )
    assert r.status_code == 200, r.text
    assert r.json()["recomputed_clocks"] == 2  # T1's unit clock and round clock
    after = await deadlines(sla_client, "T1")
    assert before["KA1"]["sign"] == "2026-11-25T00:00:00+08:00"
    assert after["KA1"]["sign"] == "2026-11-26T00:00:00+08:00"
    assert after["TT1-R1"]["completion"] == "2026-12-02T00:00:00+08:00"
    assert await deadlines(sla_client, "T2") == closed_before
    recomputed = [
        e
        for e in await emitted(sla_app, "sla.clock_started")
        if e.payload["reason"] == "recomputed"
    ]
    assert [e.payload["assignment_id"] for e in recomputed] == ["A1"]
    r = await sla_client.delete("/api/v1/sla/calendar/days/2026-11-24", headers=SUPERVISOR)
    assert r.status_code == 200
    assert await deadlines(sla_client, "T1") == before


async def test_working_hours_are_served_as_documented(
    sla_app: FastAPI, sla_client: httpx.AsyncClient
) -> None:
    """Found by the fuzzing in tests/fuzz: the periods were documented as `format: time` (an
    RFC 3339 time with an offset) but served as local times without one."""
    r = await sla_client.put(
        "/api/v1/sla/calendar/days/2026-11-24", json={"working": True}, headers=SUPERVISOR
    )
    assert r.status_code == 200, r.text
    schema = sla_app.openapi()["components"]["schemas"]["PeriodIn"]["properties"]["start"]
    assert "format" not in schema
    served = [p[edge] for p in r.json()["working_hours"] for edge in ("start", "end")]
    assert served and all(re.fullmatch(schema["pattern"], t) for t in served), served


async def test_the_next_years_schedule_is_loaded_and_shown(
    sla_client: httpx.AsyncClient,
) -> None:
    year = (await sla_client.get("/api/v1/sla/calendar/2026", headers=OPERATOR)).json()
    assert year["source"] == "package"
    assert "2026-10-10" in year["make_up_days"] and "2026-10-01" in year["holidays"]
    unknown = (await sla_client.get("/api/v1/sla/calendar/2027", headers=OPERATOR)).json()
    assert unknown["source"] == "weekdays" and unknown["holidays"] == []
    schedule = {
        "holidays": ["2027-01-01", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11"],
        "make_up_days": ["2027-02-20"],
        "note": "国务院办公厅关于2027年部分节假日安排的通知",
    }
    r = await sla_client.put("/api/v1/sla/calendar/2027", json=schedule, headers=SUPERVISOR)
    assert r.status_code == 200, r.text
    assert r.json()["source"] == "loaded"
    assert r.json()["holidays"] == schedule["holidays"]
    assert r.json()["make_up_days"] == ["2027-02-20"]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("PUT", "/api/v1/sla/calendar/2027", {"holidays": ["2028-01-01"]}, "holidays"),
        ("PUT", "/api/v1/sla/calendar/2027", {"holidays": ["2027-13-01"]}, "holidays"),
        ("PUT", "/api/v1/sla/calendar/1999", {"holidays": ["1999-01-01"]}, "holidays"),
        ("PUT", "/api/v1/sla/calendar/days/2200-01-01", {"working": False}, "year"),
        ("PUT", "/api/v1/sla/calendar/days/2026-11-24", {"working": "maybe"}, "working"),
        ("DELETE", "/api/v1/sla/calendar/days/2026-11-24", None, "day"),
        (
            "PUT",
            "/api/v1/sla/calendar/working-hours",
            {"periods": [{"start": "12:00", "end": "09:00"}]},
            "periods",
        ),
    ],
)
async def test_bad_calendar_input_changes_nothing(
    sla_app: FastAPI,
    sla_client: httpx.AsyncClient,
    clock: FrozenClock,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    field: str,
) -> None:
    await start_ticket(sla_app, clock)
    before = await deadlines(sla_client)
    year = (await sla_client.get("/api/v1/sla/calendar/2027", headers=SUPERVISOR)).json()
    r = await sla_client.request(method, path, json=body, headers=SUPERVISOR)
    problem(r, 404 if method == "DELETE" else 422, field)
    assert await deadlines(sla_client) == before
    assert (await sla_client.get("/api/v1/sla/calendar/2027", headers=SUPERVISOR)).json() == year


async def test_working_hours_drive_hour_limits(
    sla_app: FastAPI, sla_client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    policy = {
        "urgency": "emergency",
        "sign": {"amount": 2, "unit": "working_hours"},
        "response": {"amount": 4, "unit": "working_hours"},
        "completion": {"amount": 24, "unit": "hours"},
        "effective_from": "2026-01-01T00:00:00+08:00",
    }
    r = await sla_client.put(
        "/api/v1/sla/policies/emergency-office", json=policy, headers=SUPERVISOR
    )
    assert r.status_code == 201, r.text
    clock.set(datetime(2026, 11, 27, 16, 0, tzinfo=CHINA))  # Friday 16:00
    at = clock.now()
    await feed(
        sla_app,
        received("T1", at, urgency="emergency"),
        dispatched("T1", "A1", at, urgency="emergency"),
    )
    due = (await deadlines(sla_client))["KA1"]
    assert due["sign"] == "2026-11-30T09:30:00+08:00"  # 1.5 h on Friday, 0.5 h on Monday
    assert due["completion"] == "2026-11-28T16:00:00+08:00"
    r = await sla_client.put(
        "/api/v1/sla/calendar/working-hours",
        json={"periods": [{"start": "08:30", "end": "18:00"}]},
        headers=SUPERVISOR,
    )
    assert r.status_code == 200, r.text
    # 16:00–18:00 on Friday is two working hours now
    assert (await deadlines(sla_client))["KA1"]["sign"] == "2026-11-27T18:00:00+08:00"


# ------------------------------------------------------------------------------ policies


async def test_policies_are_versioned_and_recompute_open_clocks(
    sla_app: FastAPI, sla_client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await start_ticket(sla_app, clock)
    future = {**ORDINARY, "effective_from": "2027-01-01T00:00:00+08:00"}
    r = await sla_client.put("/api/v1/sla/policies/quick", json=future, headers=SUPERVISOR)
    assert r.status_code == 201 and r.json()["version"] == 1
    assert r.json()["recomputed_clocks"] == 0  # not in force when the clock started
    assert (await deadlines(sla_client))["KA1"]["completion"] == "2026-12-01T00:00:00+08:00"

    past = {**ORDINARY, "effective_from": "2027-01-01T00:00:00+08:00"}
    r = await sla_client.put("/api/v1/sla/policies/quick", json=past, headers=SUPERVISOR)
    assert r.json()["version"] == 2
    retro = {**ORDINARY, "effective_from": "2026-01-01T00:00:00+08:00"}
    r = await sla_client.put("/api/v1/sla/policies/stalls", json=retro, headers=SUPERVISOR)
    assert r.status_code == 201 and r.json()["recomputed_clocks"] == 2
    due = await deadlines(sla_client)
    assert due["KA1"]["completion"] == "2026-11-27T00:00:00+08:00"
    assert due["TT1-R1"]["completion"] == "2026-11-27T00:00:00+08:00"
    versions = (await sla_client.get("/api/v1/sla/policies/quick", headers=OPERATOR)).json()
    assert [v["version"] for v in versions] == [1, 2]
    listed = (await sla_client.get("/api/v1/sla/policies", headers=UNIT)).json()
    assert {p["code"] for p in listed} >= {"default-ordinary", "quick", "stalls"}
    clock.advance(timedelta(hours=1))  # retiring from now leaves clocks started before alone
    r = await sla_client.delete("/api/v1/sla/policies/stalls", headers=SUPERVISOR)
    assert r.status_code == 200 and r.json()["retired"]
    assert (await deadlines(sla_client))["KA1"]["completion"] == "2026-11-27T00:00:00+08:00"


async def test_policies_are_read_once_until_a_version_is_written(
    sla_app: FastAPI, sla_client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """Every dispatch needs the policies: they are cached like the calendar, and a version
    written through the API is used by the next dispatch."""
    engine = sla_app.state.runtimes["sla"].engine.sync_engine
    with counting_statements(engine) as seen:
        for n in range(3):
            await start_ticket(sla_app, clock, f"T{n}", f"A{n}")
    assert len([s for s in seen if "FROM sla_policies" in s]) <= 1
    assert (await deadlines(sla_client, "T2"))["KA2"]["completion"] == "2026-12-01T00:00:00+08:00"

    quicker = {**ORDINARY, "completion": {"amount": 1, "unit": "working_days"}}
    quicker["effective_from"] = "2026-01-01T00:00:00+08:00"
    r = await sla_client.put("/api/v1/sla/policies/quicker", json=quicker, headers=SUPERVISOR)
    assert r.status_code == 201, r.text
    await start_ticket(sla_app, clock, "T9", "A9")
    assert (await deadlines(sla_client, "T9"))["KA9"]["completion"] == "2026-11-25T00:00:00+08:00"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sign": {"amount": 0, "unit": "hours"}}, "sign.amount"),
        ({"completion": {"amount": -3, "unit": "working_days"}}, "completion.amount"),
        ({"response": {"amount": 1, "unit": "moons"}}, "response.unit"),
        ({"reminders": [{"fraction": 1.5}]}, "reminders.0.fraction"),
        ({"reminders": [{"hours_before": -1}]}, "reminders.0.hours_before"),
        ({"reminders": [{"hours_before": 200}]}, "reminders.0.hours_before"),
        ({"urgency": "someday"}, "urgency"),
        ({"effective_from": "2026-12-01T00:00:00"}, "effective_from"),
    ],
)
async def test_bad_policies_are_refused_and_change_nothing(
    sla_app: FastAPI,
    sla_client: httpx.AsyncClient,
    clock: FrozenClock,
    change: dict[str, Any],
    field: str,
) -> None:
    await start_ticket(sla_app, clock)
    before = await deadlines(sla_client)
    r = await sla_client.put(
        "/api/v1/sla/policies/quick", json={**ORDINARY, **change}, headers=SUPERVISOR
    )
    problem(r, 422, field)
    assert await deadlines(sla_client) == before
    assert (
        await sla_client.get("/api/v1/sla/policies/quick", headers=SUPERVISOR)
    ).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("PUT", "/api/v1/sla/policies/quick", {**ORDINARY, "deadline_days": 3}, "deadline_days"),
        (
            "PUT",
            "/api/v1/sla/policies/quick",
            {**ORDINARY, "sign": {"amount": 1, "unit": "hours", "per": "ticket"}},
            "sign.per",
        ),
        (
            "PUT",
            "/api/v1/sla/policies/quick",
            {**ORDINARY, "reminders": [{"fraction": 0.5, "percent": 50}]},
            "reminders.0.percent",
        ),
        (
            "PUT",
            "/api/v1/sla/calendar/2027",
            {"holidays": [], "holiday": ["2027-01-01"]},
            "holiday",
        ),
        ("PUT", "/api/v1/sla/calendar/days/2026-11-24", {"working": False, "why": "x"}, "why"),
        (
            "PUT",
            "/api/v1/sla/calendar/working-hours",
            {"periods": [{"start": "09:00", "end": "12:00", "lunch": True}]},
            "periods.0.lunch",
        ),
        ("POST", "/api/v1/sla/extensions/X1/decision", {"approve": True, "day": 5}, "day"),
        ("POST", "/api/v1/sla/supervision/S1/resolve", {"note": "已办", "result": "ok"}, "result"),
    ],
)
async def test_an_unknown_field_is_refused_by_name_and_changes_nothing(
    sla_app: FastAPI,
    sla_client: httpx.AsyncClient,
    clock: FrozenClock,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    """A misspelt field (`holiday` for `holidays`) would otherwise be dropped silently and the
    change made without it: sla's bodies forbid unknown fields, as the other services' do."""
    await start_ticket(sla_app, clock)
    before = await deadlines(sla_client)
    r = await sla_client.request(method, path, json=body, headers=SUPERVISOR)
    errors = problem(r, 422)["errors"]
    assert [(e["field"], e["type"]) for e in errors] == [(f"body.{field}", "extra_forbidden")]
    assert await deadlines(sla_client) == before
    assert (
        await sla_client.get("/api/v1/sla/policies/quick", headers=SUPERVISOR)
    ).status_code == 404


async def test_an_older_effective_date_than_the_latest_version_is_refused(
    sla_client: httpx.AsyncClient,
) -> None:
    v1 = {**ORDINARY, "effective_from": "2027-01-01T00:00:00+08:00"}
    assert (
        await sla_client.put("/api/v1/sla/policies/qq", json=v1, headers=SUPERVISOR)
    ).status_code == 201
    v2 = {**ORDINARY, "effective_from": "2026-06-01T00:00:00+08:00"}
    problem(
        await sla_client.put("/api/v1/sla/policies/qq", json=v2, headers=SUPERVISOR),
        422,
        "effective_from",
    )
    builtin = await sla_client.put(
        "/api/v1/sla/policies/default-ordinary", json=v1, headers=SUPERVISOR
    )
    problem(builtin, 422, "code")


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("PUT", "/api/v1/sla/policies/quick", OPERATOR),
        ("PUT", "/api/v1/sla/policies/quick", UNIT),
        ("DELETE", "/api/v1/sla/policies/quick", OPERATOR),
        ("PUT", "/api/v1/sla/calendar/2027", OPERATOR),
        ("PUT", "/api/v1/sla/calendar/days/2026-11-24", UNIT),
        ("POST", "/api/v1/sla/extensions/X1/decision", UNIT),
        ("POST", "/api/v1/sla/supervision/S1/resolve", OPERATOR),
        ("GET", "/api/v1/sla/overdue", bearer(Role.GATEWAY)),
        ("GET", "/api/v1/sla/policies", bearer(Role.CITIZEN)),
    ],
)
async def test_roles_reach_only_their_endpoints(
    sla_client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> None:
    body = (
        {**ORDINARY}
        if "policies" in path
        else {"holidays": [], "working": False, "approve": True, "note": "x"}
    )
    problem(await sla_client.request(method, path, json=body, headers=headers), 403)


# ------------------------------------------------------------------------------ extensions


async def test_extension_flow(
    sla_app: FastAPI, sla_client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await start_ticket(sla_app, clock)
    clock.advance(timedelta(days=1))
    await feed(sla_app, extension_requested("T1", "A1", "X1", 3, clock.now()))
    pending = (await sla_client.get("/api/v1/sla/extensions?status=pending", headers=UNIT)).json()
    assert [e["id"] for e in pending] == ["X1"]
    assert (await sla_client.get("/api/v1/sla/extensions", headers=OTHER_UNIT)).json() == []

    r = await sla_client.post(
        "/api/v1/sla/extensions/X1/decision",
        json={"approve": True, "note": "同意"},
        headers=OPERATOR,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["days"] == 3
    assert r.json()["complete_by_after"] == "2026-12-04T00:00:00+08:00"
    due = await deadlines(sla_client)
    assert due["KA1"]["completion"] == due["TT1-R1"]["completion"] == "2026-12-04T00:00:00+08:00"
    assert due["KA1"]["sign"] == "2026-11-25T00:00:00+08:00"  # only completion moves
    (decided,) = await emitted(sla_app, "sla.extension_decided")
    assert decided.payload["approved"] and decided.payload["days"] == 3
    assert datetime.fromisoformat(decided.payload["ticket_complete_by"]) == datetime(
        2026, 12, 4, tzinfo=CHINA
    )
    body = (await sla_client.get("/api/v1/sla/tickets/T1", headers=UNIT)).json()
    assert body["expected_completion"] == "2026-12-04T00:00:00+08:00"

    # decided once; the rules cap how long and how many
    problem(
        await sla_client.post(
            "/api/v1/sla/extensions/X1/decision", json={"approve": False}, headers=OPERATOR
        ),
        409,
    )
    await feed(sla_app, extension_requested("T1", "A1", "X2", 12, clock.now()))
    problem(
        await sla_client.post(
            "/api/v1/sla/extensions/X2/decision", json={"approve": True}, headers=SUPERVISOR
        ),
        422,
        "days",
    )
    r = await sla_client.post(
        "/api/v1/sla/extensions/X2/decision", json={"approve": True, "days": 2}, headers=SUPERVISOR
    )
    assert r.status_code == 200 and r.json()["days"] == 2
    await feed(sla_app, extension_requested("T1", "A1", "X3", 1, clock.now()))
    problem(
        await sla_client.post(
            "/api/v1/sla/extensions/X3/decision", json={"approve": True}, headers=SUPERVISOR
        ),
        409,
    )
    r = await sla_client.post(
        "/api/v1/sla/extensions/X3/decision",
        json={"approve": False, "note": "理由不充分"},
        headers=SUPERVISOR,
    )
    assert r.json()["status"] == "refused"
    assert (await deadlines(sla_client))["KA1"]["completion"] == "2026-12-08T00:00:00+08:00"
    assert [e.payload["approved"] for e in await emitted(sla_app, "sla.extension_decided")] == [
        True,
        True,
        False,
    ]


async def test_no_extension_for_a_closed_ticket(
    sla_app: FastAPI, sla_client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await start_ticket(sla_app, clock)
    await feed(sla_app, extension_requested("T1", "A1", "X1", 2, clock.now()))
    await feed(sla_app, closed("T1", clock.now() + timedelta(hours=1)))
    before = await deadlines(sla_client)
    events = len(await emitted(sla_app))
    problem(
        await sla_client.post(
            "/api/v1/sla/extensions/X1/decision", json={"approve": True}, headers=OPERATOR
        ),
        409,
    )
    problem(
        await sla_client.post(
            "/api/v1/sla/extensions/NOPE/decision", json={"approve": True}, headers=OPERATOR
        ),
        404,
        "request_id",
    )
    assert await deadlines(sla_client) == before
    assert len(await emitted(sla_app)) == events
    (request,) = (await sla_client.get("/api/v1/sla/extensions", headers=OPERATOR)).json()
    assert request["status"] == "lapsed"


# ------------------------------------------------------------------------------ supervision


async def test_an_overdue_ticket_is_supervised_and_escalates_while_nothing_happens(
    sla_app: FastAPI, sla_client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await start_ticket(sla_app, clock)  # due end of Monday 30 November
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=CHINA))
    await tick(sla_app)
    (case,) = (await sla_client.get("/api/v1/sla/supervision", headers=SUPERVISOR)).json()
    assert (case["reason"], case["level"]) == ("overdue", "platform")
    assert case["next_escalation_at"] == "2026-12-02T00:00:00+08:00"  # one working day

    clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=CHINA))
    await tick(sla_app)
    assert await tick(sla_app) == 0
    case = (await sla_client.get(f"/api/v1/sla/supervision/{case['id']}", headers=UNIT)).json()
    assert case["level"] == "phone"
    # the unit signs: the wait starts again at the current level
    await feed(sla_app, progress("signed", "T1", "A1", datetime(2026, 12, 3, 10, 0, tzinfo=CHINA)))
    clock.set(datetime(2026, 12, 4, 9, 0, tzinfo=CHINA))
    await tick(sla_app)
    case = (
        await sla_client.get(f"/api/v1/sla/supervision/{case['id']}", headers=SUPERVISOR)
    ).json()
    # Thursday 10:00 + two working days: Friday and Monday
    assert case["level"] == "phone" and case["next_escalation_at"] == "2026-12-08T00:00:00+08:00"
    # then silence for two weeks: on site, then joint, each once, dated when its wait ran out
    clock.set(datetime(2026, 12, 18, 9, 0, tzinfo=CHINA))
    assert await tick(sla_app) == 2
    assert await tick(sla_app) == 0
    levels = [
        (
            e.payload["previous_level"],
            e.payload["level"],
            e.occurred_at.astimezone(CHINA).isoformat(),
        )
        for e in await emitted(sla_app, "ticket.supervised")
    ]
    assert levels == [
        (None, "platform", "2026-12-01T00:00:00+08:00"),
        ("platform", "phone", "2026-12-02T00:00:00+08:00"),
        ("phone", "on_site", "2026-12-08T00:00:00+08:00"),
        ("on_site", "joint", "2026-12-11T00:00:00+08:00"),
    ]
    problem(
        await sla_client.get("/api/v1/sla/supervision/NOPE", headers=SUPERVISOR), 404, "case_id"
    )
    problem(await sla_client.get(f"/api/v1/sla/supervision/{case['id']}", headers=OTHER_UNIT), 404)
    r = await sla_client.post(
        f"/api/v1/sla/supervision/{case['id']}/resolve",
        json={"note": "联合督办后已解决"},
        headers=SUPERVISOR,
    )
    assert r.json()["status"] == "resolved"
    problem(
        await sla_client.post(
            f"/api/v1/sla/supervision/{case['id']}/resolve",
            json={"note": "again"},
            headers=SUPERVISOR,
        ),
        409,
    )


def cluster_flagged(
    ticket_id: str, cluster_id: str, joined: list[str], at: datetime, size: int = 3
) -> Envelope:
    payload = ClusterFlagged(
        cluster_id=cluster_id,
        joined_ticket_ids=joined,
        size=size,
        reporters=size,
        category="供暖/室温不达标",
        area_code="BJ0101",
    )
    return new_event(payload, ticket_id=ticket_id, producer="intake", occurred_at=at)


async def test_redispatch_clusters_and_repeated_complaints_raise_cases(
    sla_app: FastAPI, sla_client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    at = clock.now()
    await start_ticket(sla_app, clock, "T1", "A1")
    await feed(sla_app, dispatched("T1", "A2", at, unit_id=ASSIST, dispatch_count=2))
    assert (await sla_client.get("/api/v1/sla/supervision", headers=SUPERVISOR)).json() == []
    await feed(sla_app, dispatched("T1", "A3", at, unit_id="U-BJ01-JW", dispatch_count=3))
    cases = (await sla_client.get("/api/v1/sla/supervision", headers=SUPERVISOR)).json()
    assert [(c["ticket_id"], c["reason"]) for c in cases] == [("T1", "redispatched")]

    # intake's cluster (集中诉求): one case from the report that forms it, none as it grows
    await feed(sla_app, cluster_flagged("C3", "KC3", ["C1", "C2", "C3"], at))
    await feed(sla_app, cluster_flagged("C4", "KC3", ["C4"], at, size=4))
    cluster = (
        await sla_client.get("/api/v1/sla/supervision?reason=cluster", headers=SUPERVISOR)
    ).json()
    assert len(cluster) == 1 and cluster[0]["related_ticket_ids"] == ["C1", "C2", "C3"]
    assert cluster[0]["ticket_id"] == "C3"

    # three complaints about one matter against one unit
    for tid in ["U1", "U2", "U3"]:
        await feed(
            sla_app,
            received(tid, at, citizen_ref="driver", category="交通出行/停车"),
            dispatched(tid, f"A{tid}", at, unit_id="U-BJ01-JT", unit_name="江北区交通委"),
        )
    unit_cases = (
        await sla_client.get(
            "/api/v1/sla/supervision?reason=unit_complaints", headers=bearer(Role.UNIT, "U-BJ01-JT")
        )
    ).json()
    assert [(c["unit_id"], c["related_ticket_ids"]) for c in unit_cases] == [
        ("U-BJ01-JT", ["U1", "U2", "U3"])
    ]
    # closing a ticket resolves its cases
    await feed(sla_app, closed("T1", at + timedelta(hours=2)))
    open_cases = (await sla_client.get("/api/v1/sla/supervision", headers=SUPERVISOR)).json()
    assert "T1" not in {c["ticket_id"] for c in open_cases}
    supervised = await emitted(sla_app, "ticket.supervised")
    assert sorted(e.payload["reason"] for e in supervised) == [
        "cluster",
        "redispatched",
        "unit_complaints",
    ]
