"""退单 returns within and after the window, approved (re-dispatched, counted) or rejected (the
unit keeps it), and 联合认定 joint determination that can add a catalogue rule."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from shared.clock import FrozenClock
from tests.routing.helpers import (
    ADMIN,
    assists_of,
    lead_of,
    post,
    routed,
    settled,
    step,
    unit,
    wait_events,
)
from tests.support import OPERATOR

NOT_OURS = {
    "reason_code": "not_our_duty",
    "explanation": "该事项属街道属地管理职责，非区城管委职责。",
}


async def test_a_return_within_the_window_is_approved_and_redispatched(
    client: httpx.AsyncClient, app: FastAPI, clock: FrozenClock
) -> None:
    ticket_id = await post(client)
    t = await settled(client, ticket_id, 2)
    lead = lead_of(t)
    await step(client, lead, "sign")
    clock.advance(timedelta(hours=23))
    url = f"/api/v1/assignments/{lead['id']}/return"
    assert (await client.post(url, headers=unit("U-BJ0101"), json=NOT_OURS)).status_code == 403
    assert (await client.post(url, headers=OPERATOR, json=NOT_OURS)).status_code == 403
    bad = await client.post(
        url, headers=unit("U-BJ01-CG"), json={**NOT_OURS, "reason_code": "不想办"}
    )
    assert bad.status_code == 422 and "reason_code" in bad.json()["detail"]

    r = await client.post(url, headers=unit("U-BJ01-CG"), json=NOT_OURS)
    assert r.status_code == 202, r.text
    ret = r.json()
    assert (ret["status"], ret["reason_code"]) == ("pending", "not_our_duty")
    after = (await client.get(f"/api/v1/assignments/{lead['id']}", headers=OPERATOR)).json()
    assert (after["status"], after["allowed_actions"], after["also_allowed"]) == (
        "return_requested",
        [],
        [],
    )
    again = await client.post(url, headers=unit("U-BJ01-CG"), json=NOT_OURS)
    assert again.status_code == 409 and again.json()["status_now"] == "return_requested"

    pending = (
        await client.get("/api/v1/returns", params={"status": "pending"}, headers=OPERATOR)
    ).json()
    assert [p["id"] for p in pending] == [ret["id"]]
    assert (await client.get("/api/v1/returns", headers=unit("U-BJ02-CG"))).json() == []
    assert (
        await client.get(f"/api/v1/returns/{ret['id']}", headers=unit("U-BJ02-CG"))
    ).status_code == 403

    approve = f"/api/v1/returns/{ret['id']}/approve"
    assert (
        await client.post(approve, headers=unit("U-BJ01-CG"), json={"unit_id": "U-BJ0101"})
    ).status_code == 403
    no_lead = await client.post(approve, headers=OPERATOR, json={})
    assert no_lead.status_code == 422 and "unit_id" in no_lead.json()["detail"]
    ghost = await client.post(approve, headers=OPERATOR, json={"unit_id": "U-GHOST"})
    assert ghost.status_code == 422
    assert (await client.get(f"/api/v1/returns/{ret['id']}", headers=OPERATOR)).json()[
        "status"
    ] == "pending"

    ok = await client.post(
        approve, headers=OPERATOR, json={"unit_id": "U-BJ0101", "note": "属地街道主办"}
    )
    assert ok.status_code == 200, ok.text
    assert (ok.json()["status"], ok.json()["redispatched_to"]) == ("approved", "U-BJ0101")
    t = await routed(client, ticket_id)
    assert (t["dispatch_count"], t["return_count"], lead_of(t)["unit_id"], lead_of(t)["basis"]) == (
        2,
        1,
        "U-BJ0101",
        "returned",
    )
    assert {a["id"]: a["status"] for a in t["assignments"]}[lead["id"]] == "returned"
    (returned,) = await wait_events(app, ticket_id, "assignment.returned")
    assert returned.payload == {
        "assignment_id": lead["id"],
        "unit_id": "U-BJ01-CG",
        "reason_code": "not_our_duty",
        "explanation": NOT_OURS["explanation"],
        "return_id": ret["id"],
        "status": "approved",
    }
    decided = await client.post(
        f"/api/v1/returns/{ret['id']}/reject", headers=OPERATOR, json={"note": "x"}
    )
    assert decided.status_code == 409 and decided.json()["status_now"] == "approved"


async def test_a_rejected_return_leaves_the_ticket_with_the_unit(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    ticket_id = await post(client)
    assist = assists_of(await settled(client, ticket_id, 2))[0]
    r = await client.post(
        f"/api/v1/assignments/{assist['id']}/return",
        headers=unit("U-BJ0101"),
        json={"reason_code": "wrong_area", "explanation": "不在本街道辖区"},
    )
    assert r.status_code == 202
    url = f"/api/v1/returns/{r.json()['id']}/reject"
    assert (
        await client.post(url, headers=OPERATOR, json={})
    ).status_code == 422  # a reason is owed
    ok = await client.post(
        url, headers=OPERATOR, json={"note": "阳光社区属长安街道辖区，请继续办理"}
    )
    assert ok.json()["status"] == "rejected"
    back = (
        await client.get(f"/api/v1/assignments/{assist['id']}", headers=unit("U-BJ0101"))
    ).json()
    assert back["status"] == "dispatched"
    assert (await routed(client, ticket_id))["return_count"] == 0
    await step(client, assist, "sign")


async def test_returns_after_the_window_or_after_contact_are_refused(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    ticket_id = await post(client)
    t = await settled(client, ticket_id, 2)
    lead, assist = lead_of(t), assists_of(t)[0]
    await step(client, assist, "sign", "contact")
    r = await client.post(
        f"/api/v1/assignments/{assist['id']}/return", headers=unit("U-BJ0101"), json=NOT_OURS
    )
    assert r.status_code == 409 and r.json()["status_now"] == "contacted"

    clock.advance(timedelta(hours=24, minutes=1))
    late = await client.post(
        f"/api/v1/assignments/{lead['id']}/return", headers=unit("U-BJ01-CG"), json=NOT_OURS
    )
    assert late.status_code == 409, late.text
    assert "window of 24 hours" in late.json()["detail"] and late.json()["allowed_actions"] == [
        "sign"
    ]
    assert (await client.get(f"/api/v1/assignments/{lead['id']}", headers=OPERATOR)).json()[
        "status"
    ] == "dispatched"
    assert (await client.get("/api/v1/returns", headers=OPERATOR)).json() == []


async def test_an_assistant_return_is_approved_with_a_replacement(
    client: httpx.AsyncClient,
) -> None:
    ticket_id = await post(client)
    assist = assists_of(await settled(client, ticket_id, 2))[0]
    r = await client.post(
        f"/api/v1/assignments/{assist['id']}/return", headers=unit("U-BJ0101"), json=NOT_OURS
    )
    ok = await client.post(
        f"/api/v1/returns/{r.json()['id']}/approve",
        headers=OPERATOR,
        json={"unit_id": "U-BJ010101"},
    )
    assert ok.status_code == 200, ok.text
    t = await routed(client, ticket_id)
    live = [a["unit_id"] for a in assists_of(t) if a["status"] == "dispatched"]
    assert (live, t["dispatch_count"], t["return_count"]) == (["U-BJ010101"], 1, 1)


async def test_joint_determination_redispatches_settles_returns_and_adds_a_rule(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    ticket_id = await post(client)
    lead = lead_of(await settled(client, ticket_id, 2))
    r = await client.post(
        f"/api/v1/assignments/{lead['id']}/return", headers=unit("U-BJ01-CG"), json=NOT_OURS
    )
    url = f"/api/v1/routing/tickets/{ticket_id}/determinations"
    body = {
        "participants": ["U-BJ01-CG", "U-BJ0101", "U-BJ01-ZJ"],
        "lead_unit_id": "U-BJ0101",
        "assist_unit_ids": ["U-BJ01-CG"],
        "decision": "小区门口早市由属地街道牵头，城管配合执法。",
        "add_rule": {
            "category": "城市管理/市容环境/占道经营",
            "area": "BJ0101",
            "keywords": ["早市"],
        },
    }
    conflicting = {
        **body,
        "add_rule": {"id": "R005", "category": "教育", "area": None, "keywords": []},
    }
    refused = await client.post(url, headers=OPERATOR, json=conflicting)
    assert refused.status_code == 422 and "R005" in refused.json()["detail"]
    assert (await client.post(url, headers=unit("U-BJ0101"), json=body)).status_code == 403
    assert (await routed(client, ticket_id))["dispatch_count"] == 1  # nothing changed
    assert len((await client.get("/api/v1/catalogue/versions", headers=ADMIN)).json()) == 1

    d = await client.post(url, headers=OPERATOR, json=body)
    assert d.status_code == 201, d.text
    det = d.json()
    assert (det["catalogue_version"], det["rule_id"]) == (2, f"J-{det['id']}")
    assert (await client.get(f"/api/v1/returns/{r.json()['id']}", headers=OPERATOR)).json()[
        "status"
    ] == "rejected"
    t = await routed(client, ticket_id)
    assert (lead_of(t)["unit_id"], lead_of(t)["basis"], t["dispatch_count"]) == (
        "U-BJ0101",
        "determination",
        2,
    )
    (event,) = await wait_events(app, ticket_id, "ticket.ownership_determined")
    assert event.payload["lead_unit_id"] == "U-BJ0101" and event.payload["catalogue_version"] == 2
    listed = (await client.get(url, headers=OPERATOR)).json()
    assert [x["id"] for x in listed] == [det["id"]]

    # The next such ticket follows the new rule.
    t2 = await settled(client, await post(client), 1)
    assert (lead_of(t2)["unit_id"], lead_of(t2)["rule_id"], lead_of(t2)["catalogue_version"]) == (
        "U-BJ0101",
        det["rule_id"],
        2,
    )


async def test_a_redispatch_makes_a_pending_return_moot(client: httpx.AsyncClient) -> None:
    ticket_id = await post(client)
    lead = lead_of(await settled(client, ticket_id, 2))
    r = await client.post(
        f"/api/v1/assignments/{lead['id']}/return", headers=unit("U-BJ01-CG"), json=NOT_OURS
    )
    redo = await client.post(
        f"/api/v1/routing/tickets/{ticket_id}/redispatch",
        headers=OPERATOR,
        json={"lead_unit_id": "U-BJ0101", "reason": "属地街道主办"},
    )
    assert redo.status_code == 200, redo.text
    ret = (await client.get(f"/api/v1/returns/{r.json()['id']}", headers=OPERATOR)).json()
    assert ret["status"] == "withdrawn"
    late = await client.post(
        f"/api/v1/returns/{ret['id']}/approve", headers=OPERATOR, json={"unit_id": "U-BJ01-ZJ"}
    )
    assert late.status_code == 409 and late.json()["status_now"] == "withdrawn"
    assert (await routed(client, ticket_id))["dispatch_count"] == 2
