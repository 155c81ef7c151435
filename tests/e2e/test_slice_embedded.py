"""The vertical slice with all five services embedded in one app (SQLite, embedded bus)."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from shared.db import create_engine
from tests.slice import Clients, post_complaint, run_vertical_slice
from tests.support import SUPERVISOR, eventually


async def test_complaint_flows_from_intake_to_the_three_rates(client: httpx.AsyncClient) -> None:
    final = await run_vertical_slice(Clients(client, client, client, client, client))
    events = [e["event"] for e in final["timeline"]]
    assert events[0] == "ticket.received" and events[-1] == "ticket.closed"


async def test_deadlines_follow_the_working_day_calendar(client: httpx.AsyncClient) -> None:
    c = Clients(client, client, client, client, client)
    ticket_id = (await post_complaint(c))["id"]

    async def clocks() -> list[dict[str, Any]]:
        r = await client.get(f"/api/v1/sla/tickets/{ticket_id}/clocks", headers=SUPERVISOR)
        return list(r.json())

    (first, *_) = await eventually(clocks, what="clocks")
    # Reminders (提前提醒) share the list of timers; the deadlines are the `deadline` kind.
    due = {t["stage"]: t["due_at"] for t in first["timers"] if t["kind"] == "deadline"}
    # Dispatched Monday 2026-11-23 10:00: 1 working day → end of Tue 24th; 5 → end of Mon 30th.
    assert due == {
        "sign": "2026-11-25T00:00:00+08:00",
        "response": "2026-11-25T00:00:00+08:00",
        "completion": "2026-12-01T00:00:00+08:00",
    }


async def test_readiness_names_what_is_unreachable(client: httpx.AsyncClient, app: FastAPI) -> None:
    r = await client.get("/readyz")
    assert r.status_code == 200
    assert set(r.json()["checks"]) == {f"{name}.database" for name in app.state.runtimes} | {"bus"}
    assert {"intake", "routing", "sla", "callback", "analytics", "accounts"} <= set(
        app.state.runtimes
    )
    routing = app.state.runtimes["routing"]
    healthy_engine = routing.engine
    routing.engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        r = await client.get("/readyz")
    finally:
        await routing.engine.dispose()
        routing.engine = healthy_engine
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["checks"]["routing.database"].startswith("failed")
    assert r.json()["checks"]["intake.database"] == "ok"
    assert (await client.get("/healthz")).json()["status"] == "ok"
