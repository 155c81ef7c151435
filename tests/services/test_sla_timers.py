"""sla's timers fire once each, driven by a frozen clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from shared.auth import Role
from shared.clock import FrozenClock
from tests.slice import Clients, assignments_of, post_complaint, ticket
from tests.support import SUPERVISOR, bearer, eventually


async def test_missed_deadlines_fire_once_and_met_ones_never(
    client: httpx.AsyncClient, app: FastAPI, clock: FrozenClock
) -> None:
    c = Clients(client, client, client, client, client)
    ticket_id = (await post_complaint(c))["id"]

    async def clocks() -> list[dict[str, Any]] | None:
        r = await client.get(f"/api/v1/sla/tickets/{ticket_id}/clocks", headers=SUPERVISOR)
        return r.json() if len(r.json()) == 2 else None

    await eventually(clocks, what="clocks")
    lead = next(a for a in await assignments_of(c, ticket_id) if a["role"] == "lead")

    r = await client.post(
        f"/api/v1/assignments/{lead['id']}/sign", headers=bearer(Role.UNIT, lead["unit_id"])
    )
    assert r.status_code == 200

    async def sign_stopped() -> bool:
        ks = await clocks() or []
        lead_clock = next(k for k in ks if k["assignment_id"] == lead["id"])
        return any(t["stage"] == "sign" and t["state"] == "stopped" for t in lead_clock["timers"])

    await eventually(sign_stopped, what="the lead's sign-off clock to stop")

    sla = app.state.runtimes["sla"]
    assert await sla.run_job("fire_due_timers") == 0  # nothing due yet
    clock.advance(timedelta(days=2))  # Wednesday 10:00: sign-off and response were due at 00:00
    # lead: response breached (sign was met); assistant: sign and response breached
    assert await sla.run_job("fire_due_timers") == 3
    assert await sla.run_job("fire_due_timers") == 0  # fired once, never again

    overdue = (await client.get("/api/v1/sla/overdue", headers=SUPERVISOR)).json()
    assert sorted((o["assignment_id"] == lead["id"], o["stage"]) for o in overdue) == [
        (False, "response"),
        (False, "sign"),
        (True, "response"),
    ]
    final = await ticket(c, ticket_id)

    async def breach_in_timeline() -> bool:
        t = await ticket(c, ticket_id)
        return sum(e["event"] == "sla.breached" for e in t["timeline"]) == 3

    await eventually(breach_in_timeline, what="breaches in the ticket's timeline")
    assert final["status"] in ("dispatched", "in_progress")
