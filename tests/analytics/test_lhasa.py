"""The seed's Lhasa figures (002) reproduced through the whole platform, over HTTP only:
211 requests, 55 answered on the spot, 156 dispatched; 156 called back, 153 satisfied, 3
re-opened (so 208 = 55 + 153 completed) → completion 98.6%, satisfaction 98.1%."""

from __future__ import annotations

from typing import Any

import httpx

from shared.auth import Role
from tests.support import GATEWAY, OPERATOR, SUPERVISOR, bearer, eventually

CONSULTATION = {
    "channel": "phone",
    "kind": "consultation",
    "category": "教育/招生政策",
    "title": "咨询小学入学政策",
    "address": "滨江市江北区长安街道阳光社区",
}
COMPLAINT = {
    "channel": "app",
    "kind": "complaint",
    "category": "市场监管/消费维权",
    "title": "商家拒不退款",
    "address": "滨江市滨海区海港街道港湾社区",
}


async def post(client: httpx.AsyncClient, body: dict[str, Any], i: int, headers: Any) -> str:
    r = await client.post(
        "/api/v1/tickets",
        json={
            **body,
            "description": f"{body['title']}，第{i}号来电，请协助处理。",
            "citizen": {"name": f"市民{i}", "phone": f"139{i:08d}"},
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_lhasa_through_the_whole_platform(client: httpx.AsyncClient) -> None:
    for i in range(55):  # 在线解答: answered on the spot by an operator
        await post(
            client, {**CONSULTATION, "answer": "按学区划片入学，可登录教委网站查询。"}, i, OPERATOR
        )
    tickets = [await post(client, COMPLAINT, 100 + i, GATEWAY) for i in range(156)]

    async def all_dispatched() -> list[dict[str, Any]] | None:
        r = await client.get("/api/v1/assignments", headers=SUPERVISOR)
        found = [a for a in r.json() if a["ticket_id"] in set(tickets)]
        return found if len(found) == 156 else None

    assignments = await eventually(all_dispatched, timeout=60, what="156 dispatches")
    assert {a["role"] for a in assignments} == {"lead"}
    for a in assignments:
        unit = bearer(Role.UNIT, a["unit_id"])
        for step in ("sign", "contact"):
            r = await client.post(f"/api/v1/assignments/{a['id']}/{step}", headers=unit)
            assert r.status_code == 200, r.text
        r = await client.post(
            f"/api/v1/assignments/{a['id']}/reply",
            headers=unit,
            json={"outcome": "solved", "explanation": "已督促商家退款。"},
        )
        assert r.status_code == 200, r.text

    async def due() -> list[dict[str, Any]] | None:
        r = await client.get("/api/v1/callbacks", params={"status": "due"}, headers=OPERATOR)
        found = [c for c in r.json() if c["ticket_id"] in set(tickets)]
        return found if len(found) == 156 else None

    callbacks = sorted(
        await eventually(due, timeout=60, what="156 callbacks"), key=lambda c: c["ticket_id"]
    )
    for n, task in enumerate(callbacks):
        happy = n >= 3
        r = await client.post(
            f"/api/v1/callbacks/{task['id']}/result",
            headers=OPERATOR,
            json={
                "contacted_by_unit": True,
                "solved": "solved" if happy else "unsolved",
                "satisfaction": "satisfied" if happy else "dissatisfied",
                "reopen": not happy,
                "reopen_reason": None if happy else "商家仍未退款",
            },
        )
        assert r.status_code == 200, r.text

    async def figures() -> dict[str, Any] | None:
        r = await client.get(
            "/api/v1/analytics/rates",
            params={"from": "2026-11-23", "to": "2026-11-23"},
            headers=SUPERVISOR,
        )
        body = r.json()
        c = body["counts"]
        return (
            body if c["verdicts"] == 156 and c["reopened"] == 3 and c["received"] == 211 else None
        )

    body = await eventually(figures, timeout=60, what="the Lhasa figures")
    c = body["counts"]
    assert (c["received"], c["answered"], c["dispatched"]) == (211, 55, 156)
    assert (c["completed"], c["verdicts"], c["satisfied"]) == (208, 156, 153)
    assert body["completion_rate"] == {"value": 0.9858, "numerator": 208.0, "denominator": 211}
    assert body["satisfaction_rate"] == {"value": 0.9808, "numerator": 153.0, "denominator": 156}
    assert round(body["completion_rate"]["value"] * 100, 1) == 98.6
    assert round(body["satisfaction_rate"]["value"] * 100, 1) == 98.1
    assert body["reopen_rate"]["value"] == round(3 / 156, 4)
