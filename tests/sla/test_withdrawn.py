"""A re-dispatch withdraws the old lead's assignment: its clock stops, the new unit's starts."""

from __future__ import annotations

from typing import Any

import httpx

from tests.slice import Clients, assignments_of, post_complaint
from tests.support import OPERATOR, SUPERVISOR, eventually


async def test_redispatch_stops_the_withdrawn_units_clock(client: httpx.AsyncClient) -> None:
    c = Clients(client, client, client, client, client)
    ticket_id = (await post_complaint(c))["id"]

    async def lead() -> dict[str, Any] | None:
        return next((a for a in await assignments_of(c, ticket_id) if a["role"] == "lead"), None)

    old = await eventually(lead, what="dispatch")
    r = await client.post(
        f"/api/v1/routing/tickets/{ticket_id}/redispatch",
        headers=OPERATOR,
        json={"lead_unit_id": "U-BJ0101", "reason": "属街道职责"},
    )
    assert r.status_code == 200, r.text

    async def clocks() -> dict[str, str] | None:
        r = await client.get(f"/api/v1/sla/tickets/{ticket_id}/clocks", headers=SUPERVISOR)
        by_assignment = {k["assignment_id"]: k for k in r.json()}
        new = [
            k for k in r.json() if k["unit_id"] == "U-BJ0101" and k["assignment_id"] != old["id"]
        ]
        if (
            old["id"] in by_assignment
            and new
            and by_assignment[old["id"]].get("status") == "withdrawn"
        ):
            return {"old": by_assignment[old["id"]]["status"], "new": new[-1].get("status", "")}
        return None

    states = await eventually(clocks, what="the old clock to stop and the new one to run")
    assert states == {"old": "withdrawn", "new": "open"}
