"""Who did what to a ticket (审计): every event names the staff member or service whose request
caused it, and supervisors read a ticket's whole trail in order; a citizen is never named."""

from __future__ import annotations

from typing import Any

import httpx

from tests.slice import Clients, run_vertical_slice
from tests.support import OPERATOR, SUPERVISOR, eventually


async def test_a_tickets_trail_names_who_did_each_step(client: httpx.AsyncClient) -> None:
    c = Clients(client, client, client, client, client)
    ticket_id = (await run_vertical_slice(c))["id"]

    async def trail() -> list[dict[str, Any]] | None:
        r = await client.get(f"/api/v1/analytics/tickets/{ticket_id}/audit", headers=SUPERVISOR)
        found = r.json() if r.status_code == 200 else []
        return found if any(e["event"] == "ticket.closed" for e in found) else None

    entries = await eventually(trail, what="the whole trail")
    by_event = {e["event"]: e for e in entries}
    assert by_event["ticket.received"]["actor"].startswith("gateway:")
    assert by_event["ticket.dispatched"]["actor"] is None  # routing reacted by itself
    signed = [e for e in entries if e["event"] == "assignment.signed"]
    assert len(signed) == 2 and all(e["actor"].startswith("unit:") for e in signed)
    assert by_event["callback.completed"]["actor"].startswith("operator:")
    # Events analytics does not fold into figures are in the trail too.
    assert "ticket.replied" in by_event and "sla.clock_started" in by_event
    times = [e["at"] for e in entries]
    assert times == sorted(times)

    denied = await client.get(f"/api/v1/analytics/tickets/{ticket_id}/audit", headers=OPERATOR)
    assert denied.status_code == 403
