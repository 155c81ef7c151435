"""吹哨报到: a street or community summons departments to report within a time limit; each
report and its lateness is recorded."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from shared.clock import FrozenClock
from tests.routing.helpers import assists_of, post, settled, unit, wait_events
from tests.support import OPERATOR

SUMMONS = {
    "department_ids": ["U-BJ01-CG", "U-BJ01-ZJ"],
    "hours": 24,
    "reason": "占道摊贩屡禁不止，需城管、住建联合执法",
}


async def test_a_street_whistles_and_departments_report_on_time_or_late(
    client: httpx.AsyncClient, app: FastAPI, clock: FrozenClock
) -> None:
    ticket_id = await post(client)
    await settled(client, ticket_id, 2)  # 长安街道 (U-BJ0101) assists on this ticket
    url = f"/api/v1/routing/tickets/{ticket_id}/whistles"

    assert (
        await client.post(url, headers=unit("U-BJ01-CG"), json=SUMMONS)
    ).status_code == 403  # not a street
    assert (
        await client.post(url, headers=unit("U-BJ0102"), json=SUMMONS)
    ).status_code == 403  # not holding it
    assert (await client.post(url, headers=OPERATOR, json=SUMMONS)).status_code == 403
    ghost = await client.post(
        url, headers=unit("U-BJ0101"), json={**SUMMONS, "department_ids": ["U-GHOST"]}
    )
    assert ghost.status_code == 422 and "department_ids" in ghost.json()["detail"]
    bad = await client.post(url, headers=unit("U-BJ0101"), json={**SUMMONS, "hours": 0})
    assert bad.status_code == 422 and "hours" in bad.json()["detail"]
    assert (await client.get("/api/v1/whistles", headers=OPERATOR)).json() == []  # nothing changed

    r = await client.post(url, headers=unit("U-BJ0101"), json=SUMMONS)
    assert r.status_code == 201, r.text
    w = r.json()
    assert w["respond_by"].startswith("2026-11-24T10:00:00")
    assert [s["unit_id"] for s in w["summons"]] == ["U-BJ01-CG", "U-BJ01-ZJ"]
    (blown,) = await wait_events(app, ticket_id, "whistle.blown")
    assert blown.payload["department_ids"] == ["U-BJ01-CG", "U-BJ01-ZJ"]

    report = f"/api/v1/whistles/{w['id']}/report"
    assert (
        await client.post(report, headers=unit("U-BJ02-CG"), json={"report": "到"})
    ).status_code == 403
    clock.advance(timedelta(hours=6))
    on_time = await client.post(
        report, headers=unit("U-BJ01-CG"), json={"report": "已派执法队现场处置"}
    )
    assert on_time.status_code == 200, on_time.text
    twice = await client.post(report, headers=unit("U-BJ01-CG"), json={"report": "再报"})
    assert twice.status_code == 409

    clock.advance(timedelta(hours=20))  # 26 hours after the whistle
    seen = (await client.get(f"/api/v1/whistles/{w['id']}", headers=OPERATOR)).json()
    assert {s["unit_id"]: s["overdue"] for s in seen["summons"]} == {
        "U-BJ01-CG": False,
        "U-BJ01-ZJ": True,
    }
    late = await client.post(report, headers=unit("U-BJ01-ZJ"), json={"report": "已核查违建情况"})
    summons = {s["unit_id"]: (s["late"], s["overdue"]) for s in late.json()["summons"]}
    assert summons == {"U-BJ01-CG": (False, False), "U-BJ01-ZJ": (True, False)}
    reported = await wait_events(app, ticket_id, "whistle.reported", 2)
    assert {e.payload["unit_id"]: e.payload["late"] for e in reported} == {
        "U-BJ01-CG": False,
        "U-BJ01-ZJ": True,
    }

    # Each side sees the whistle; an outsider neither sees nor reads it.
    assert [
        x["id"] for x in (await client.get("/api/v1/whistles", headers=unit("U-BJ01-ZJ"))).json()
    ] == [w["id"]]
    assert [
        x["id"] for x in (await client.get("/api/v1/whistles", headers=unit("U-BJ0101"))).json()
    ] == [w["id"]]
    assert (await client.get("/api/v1/whistles", headers=unit("U-BJ02-CG"))).json() == []
    assert (
        await client.get(f"/api/v1/whistles/{w['id']}", headers=unit("U-BJ02-CG"))
    ).status_code == 403


async def test_a_community_holding_the_ticket_may_whistle(client: httpx.AsyncClient) -> None:
    ticket_id = await post(client)
    t = await settled(client, ticket_id, 2)
    assist = assists_of(t)[0]
    back = await client.post(
        f"/api/v1/assignments/{assist['id']}/return",
        headers=unit("U-BJ0101"),
        json={"reason_code": "other", "explanation": "社区更近，由社区协办"},
    )
    r = await client.post(
        f"/api/v1/returns/{back.json()['id']}/approve",
        headers=OPERATOR,
        json={"unit_id": "U-BJ010101"},
    )
    assert r.status_code == 200
    w = await client.post(
        f"/api/v1/routing/tickets/{ticket_id}/whistles",
        headers=unit("U-BJ010101"),
        json={**SUMMONS, "department_ids": ["U-BJ01-ZJ"], "hours": 4},
    )
    assert w.status_code == 201, w.text
    mine = await client.post(
        f"/api/v1/routing/tickets/{ticket_id}/whistles",
        headers=unit("U-BJ010101"),
        json={**SUMMONS, "department_ids": ["U-BJ010101"]},
    )
    assert mine.status_code == 422
