"""延期申请: a unit asks for more time while it works on an assignment; sla decides."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from shared.auth import Role
from shared.bus import bus_log
from shared.events import Envelope
from tests.slice import Clients, assignments_of, post_complaint
from tests.support import bearer, eventually


async def test_a_unit_requests_an_extension_after_signing(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    c = Clients(client, client, client, client, client)
    ticket_id = (await post_complaint(c))["id"]

    async def lead() -> dict[str, Any] | None:
        return next((a for a in await assignments_of(c, ticket_id) if a["role"] == "lead"), None)

    assignment = await eventually(lead, what="dispatch")
    unit = bearer(Role.UNIT, assignment["unit_id"])
    url = f"/api/v1/assignments/{assignment['id']}/extension"
    body = {"days": 5, "reason": "需协调市政部门联合施工"}

    early = await client.post(url, headers=unit, json=body)
    assert early.status_code == 409 and early.json()["allowed_actions"] == ["sign"]
    assert (
        await client.post(url, headers=bearer(Role.UNIT, "U-BJ02-CG"), json=body)
    ).status_code == 403
    assert (
        await client.post(f"/api/v1/assignments/{assignment['id']}/sign", headers=unit)
    ).status_code == 200
    bad = await client.post(url, headers=unit, json={**body, "days": 0})
    assert bad.status_code == 422 and "days" in bad.json()["detail"]

    r = await client.post(url, headers=unit, json=body)
    assert r.status_code == 202, r.text
    assert (r.json()["requested_days"], r.json()["reason"]) == (5, "需协调市政部门联合施工")

    async def announced() -> list[Envelope]:
        async with app.state.bus.engine.connect() as conn:
            bodies = (await conn.execute(select(bus_log.c.body))).scalars().all()
        return [
            e
            for e in map(Envelope.model_validate_json, bodies)
            if e.type == "assignment.extension_requested" and e.ticket_id == ticket_id
        ]

    (event,) = await eventually(announced, what="assignment.extension_requested")
    assert event.payload["request_id"] == r.json()["id"]
    assert event.payload["requested_days"] == 5
