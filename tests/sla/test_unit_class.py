"""A unit's class (单位类别) comes from routing's `ticket.dispatched`; sla never guesses it from
the unit's name. A policy for a class applies to units of that class only, and a dispatch
without a class (written before routing sent one) gets only class-free policies."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from shared.clock import FrozenClock
from tests.sla.support import dispatched, feed, received
from tests.support import SUPERVISOR

DEPARTMENT_POLICY = {
    "unit_class": "department",
    "sign": {"amount": 2, "unit": "hours"},
    "response": {"amount": 4, "unit": "hours"},
    "completion": {"amount": 2, "unit": "working_days"},
    "effective_from": "2026-01-01T00:00:00+08:00",
}


async def policy_of(client: httpx.AsyncClient, ticket_id: str) -> str:
    r = await client.get(f"/api/v1/sla/tickets/{ticket_id}/clocks", headers=SUPERVISOR)
    assert r.status_code == 200, r.text
    (clock,) = r.json()
    return str(clock["policy"])


async def test_a_class_policy_applies_to_units_of_that_class_only(
    sla_app: FastAPI, sla_client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    r = await sla_client.put(
        "/api/v1/sla/policies/departments", json=DEPARTMENT_POLICY, headers=SUPERVISOR
    )
    assert r.status_code == 201, r.text
    at = clock.now()
    # The unit's name would have read as a district body; routing's class decides.
    await feed(
        sla_app,
        received("T1", at),
        dispatched("T1", "A1", at, unit_name="江北区城市管理委员会", unit_class="department"),
        received("T2", at),
        dispatched("T2", "A2", at, unit_name="江北区城市管理委员会", unit_class="street"),
        received("T3", at),
        dispatched("T3", "A3", at, unit_name="江北区城市管理委员会", unit_class=None),
    )
    assert await policy_of(sla_client, "T1") == "departments@v1"
    assert await policy_of(sla_client, "T2") == "default-ordinary@v0"
    assert await policy_of(sla_client, "T3") == "default-ordinary@v0"


async def test_policies_name_routings_unit_classes(sla_client: httpx.AsyncClient) -> None:
    r = await sla_client.put(
        "/api/v1/sla/policies/cities",
        json={**DEPARTMENT_POLICY, "unit_class": "city"},
        headers=SUPERVISOR,
    )
    assert r.status_code == 422, r.text
    assert "unit_class" in r.text and "department" in r.text
