"""Supervision shows in the operator's timeline and stays out of the citizen's."""

from __future__ import annotations

from typing import Any

import httpx

from tests.slice import Clients, assignments_of, post_complaint, ticket
from tests.support import OPERATOR, eventually


async def test_two_redispatches_put_the_ticket_under_key_supervision(
    client: httpx.AsyncClient,
) -> None:
    c = Clients(client, client, client, client, client)
    ticket_id = (await post_complaint(c))["id"]

    async def dispatched() -> list[dict[str, Any]]:
        return await assignments_of(c, ticket_id)

    await eventually(dispatched, what="dispatch")
    for unit in ("U-BJ0101", "U-BJ01"):
        r = await client.post(
            f"/api/v1/routing/tickets/{ticket_id}/redispatch",
            headers=OPERATOR,
            json={"lead_unit_id": unit, "reason": "职责不符，改派"},
        )
        assert r.status_code == 200, r.text

    async def supervised() -> list[str] | None:
        texts = [e["text"] for e in (await ticket(c, ticket_id))["timeline"]]
        case_opened = any(t.startswith("已纳入督办（平台督办）") for t in texts)
        return texts if "已改派2次，列为重点督办" in texts and case_opened else None

    await eventually(supervised, what="routing's key supervision and sla's case in the timeline")
