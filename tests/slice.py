"""The vertical slice through all five services, driven only through their HTTP APIs.

Used by the embedded e2e test (one app) and the distributed test (five processes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from shared.auth import Role
from tests.support import COMPLAINT, GATEWAY, OPERATOR, SUPERVISOR, bearer, eventually


@dataclass
class Clients:
    intake: httpx.AsyncClient
    routing: httpx.AsyncClient
    sla: httpx.AsyncClient
    callback: httpx.AsyncClient
    analytics: httpx.AsyncClient


async def ticket(c: Clients, ticket_id: str) -> dict[str, Any]:
    r = await c.intake.get(f"/api/v1/tickets/{ticket_id}", headers=OPERATOR)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def assignments_of(c: Clients, ticket_id: str) -> list[dict[str, Any]]:
    r = await c.routing.get("/api/v1/assignments", headers=SUPERVISOR)
    assert r.status_code == 200, r.text
    return [a for a in r.json() if a["ticket_id"] == ticket_id]


async def post_complaint(c: Clients, **changes: Any) -> dict[str, Any]:
    r = await c.intake.post("/api/v1/tickets", json={**COMPLAINT, **changes}, headers=GATEWAY)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def handle(c: Clients, assignment: dict[str, Any], outcome: str = "solved") -> None:
    unit = bearer(Role.UNIT, assignment["unit_id"])
    base = f"/api/v1/assignments/{assignment['id']}"
    for step in ("sign", "contact"):
        r = await c.routing.post(f"{base}/{step}", headers=unit)
        assert r.status_code == 200, r.text
    r = await c.routing.post(
        f"{base}/reply",
        headers=unit,
        json={"outcome": outcome, "explanation": "已清理占道摊位，并安排每日巡查。"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "replied"


async def run_vertical_slice(c: Clients, timeout: float = 30.0) -> dict[str, Any]:
    """Complaint → dispatch → deadlines → unit handles → callback → three rates."""
    received = await post_complaint(c)
    ticket_id = received["id"]
    assert received["status"] == "received"
    assert received["area_code"] == "BJ010101"  # 阳光社区, from the address text
    assert received["citizen"]["phone"] == "138****5678"  # gateways see it masked

    async def dispatched() -> list[dict[str, Any]] | None:
        found = await assignments_of(c, ticket_id)
        return found if len(found) == 2 else None

    work = await eventually(dispatched, timeout=timeout, what="lead and assisting assignments")
    lead = next(a for a in work if a["role"] == "lead")
    assist = next(a for a in work if a["role"] == "assist")
    # R005: 占道经营 in 江北区 with the keywords 早市/摊贩 beats the district's 市容环境 rule.
    assert (lead["unit_id"], assist["unit_id"]) == ("U-BJ01-CG", "U-BJ0101")
    assert "R005" in lead["reason"]

    async def clocks() -> list[dict[str, Any]] | None:
        r = await c.sla.get(f"/api/v1/sla/tickets/{ticket_id}/clocks", headers=SUPERVISOR)
        return r.json() if r.status_code == 200 and len(r.json()) == 2 else None

    armed = await eventually(clocks, timeout=timeout, what="sla clocks")
    assert all(
        {t["stage"] for t in k["timers"]} == {"sign", "response", "completion"} for k in armed
    )

    # The lead cannot close handling before its assisting unit replied.
    lead_unit = bearer(Role.UNIT, lead["unit_id"])
    for step in ("sign", "contact"):
        assert (
            await c.routing.post(f"/api/v1/assignments/{lead['id']}/{step}", headers=lead_unit)
        ).status_code == 200
    early = await c.routing.post(
        f"/api/v1/assignments/{lead['id']}/reply",
        headers=lead_unit,
        json={"outcome": "solved", "explanation": "已处理"},
    )
    assert early.status_code == 409, early.text
    await handle(c, assist)
    r = await c.routing.post(
        f"/api/v1/assignments/{lead['id']}/reply",
        headers=lead_unit,
        json={"outcome": "solved", "explanation": "已清理占道摊位，并安排每日巡查。"},
    )
    assert r.status_code == 200, r.text

    async def callback_due() -> list[dict[str, Any]]:
        r = await c.callback.get(
            "/api/v1/callbacks", params={"ticket_id": ticket_id}, headers=OPERATOR
        )
        return list(r.json())

    (task,) = await eventually(callback_due, timeout=timeout, what="the callback task")
    assert task["status"] == "due" and task["lead_unit_id"] == "U-BJ01-CG"
    r = await c.callback.post(
        f"/api/v1/callbacks/{task['id']}/result",
        headers=OPERATOR,
        json={
            "contacted_by_unit": True,
            "solved": "solved",
            "satisfaction": "satisfied",
            "comment": "摊贩已经清走了，谢谢",
        },
    )
    assert r.status_code == 200, r.text

    async def closed() -> dict[str, Any] | None:
        t = await ticket(c, ticket_id)
        return t if t["status"] == "closed" else None

    final = await eventually(closed, timeout=timeout, what="the ticket to close")
    assert final["lead_unit"]["id"] == "U-BJ01-CG"
    texts = [e["text"] for e in final["timeline"]]
    assert texts[0].startswith("已受理")
    assert any("已派发至江北区" in t and "主办" in t for t in texts), texts
    assert any(t.startswith("回访完成：问题已解决") for t in texts), texts
    assert final["citizen"]["phone"] == "13800135678"  # an operator sees the number

    async def rated() -> dict[str, Any] | None:
        r = await c.analytics.get(
            "/api/v1/analytics/rates", params={"unit_id": "U-BJ01-CG"}, headers=SUPERVISOR
        )
        body = r.json()
        return body if body["satisfaction_rate"]["denominator"] == 1 else None

    rates = await eventually(rated, timeout=timeout, what="the three rates")
    assert rates["response_rate"] == {"value": 1.0, "numerator": 1.0, "denominator": 1}
    assert rates["resolution_rate"]["value"] == 1.0
    assert rates["satisfaction_rate"]["value"] == 1.0
    return final
