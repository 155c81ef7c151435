"""Dispatch (派单): every mode, 首接负责 or the dispatcher's queue when no rule matches, manual
dispatch, re-dispatch (改派) with counting, and key supervision after two re-dispatches."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from routing.config import settings
from shared.auth import Role
from tests.routing.helpers import (
    assists_of,
    events,
    lead_of,
    new_catalogue,
    post,
    routed,
    settled,
    unit,
    wait_events,
)
from tests.support import OPERATOR, SUPERVISOR, bearer

MARKET = {"category": "城市管理/市容环境/占道经营"}  # COMPLAINT's, in 阳光社区 (BJ010101)


async def test_direct_dispatch_records_the_rule_version_and_why(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    ticket_id = await post(client)
    t = await settled(client, ticket_id, 2)
    lead = lead_of(t)
    assert (lead["unit_id"], lead["mode"], lead["basis"]) == ("U-BJ01-CG", "direct", "catalogue")
    assert (lead["rule_id"], lead["catalogue_version"]) == ("R005", 1)
    assert "catalogue rule R005 (v1)" in lead["reason"] and "早市、摊贩" in lead["reason"]
    assert [a["unit_id"] for a in assists_of(t)] == ["U-BJ0101"]
    assert (t["dispatch_count"], t["redispatch_count"], t["key_supervision"]) == (1, 0, False)
    (sent, _) = sorted(
        await wait_events(app, ticket_id, "ticket.dispatched", 2),
        key=lambda e: e.payload["role"] != "lead",
    )
    assert sent.payload["rule_id"] == "R005" and sent.payload["basis"] == "catalogue"


async def test_level_by_level_goes_to_the_district_which_forwards_down(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await new_catalogue(
        client,
        [
            {
                "id": "R005",
                "category": "城市管理/市容环境/占道经营",
                "area": "BJ01",
                "keywords": ["早市", "摊贩"],
                "lead": "role:street_office",
                "assist": [],
                "mode": "level",
            }
        ],
    )
    ticket_id = await post(client)
    t = await settled(client, ticket_id, 1)
    district = lead_of(t)
    assert (district["unit_id"], district["mode"]) == ("U-BJ01", "level")
    assert "to forward to U-BJ0101" in district["reason"]
    assert district["also_allowed"] == ["forward", "return"]
    assert district["catalogue_version"] == 2

    url = f"/api/v1/assignments/{district['id']}/forward"
    outside = await client.post(url, headers=unit("U-BJ01"), json={"unit_id": "U-BJ0201"})
    assert outside.status_code == 422 and "unit_id" in outside.json()["detail"]
    assert (
        await client.post(url, headers=unit("U-BJ0101"), json={"unit_id": "U-BJ0101"})
    ).status_code == 403
    r = await client.post(
        url, headers=unit("U-BJ01"), json={"unit_id": "U-BJ0101", "assist_unit_ids": ["U-BJ010101"]}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["unit_id"], r.json()["basis"], r.json()["role"]) == (
        "U-BJ0101",
        "forwarded",
        "lead",
    )
    t = await routed(client, ticket_id)
    assert t["dispatch_count"] == 1  # forwarding is part of the one dispatch, not a re-dispatch
    assert [a["status"] for a in t["assignments"] if a["unit_id"] == "U-BJ01"] == ["forwarded"]
    (withdrawn,) = await wait_events(app, ticket_id, "assignment.withdrawn")
    assert withdrawn.payload["reason"] == "forwarded"
    # A street office's direct assignment cannot be forwarded.
    again = await client.post(
        f"/api/v1/assignments/{r.json()['id']}/forward",
        headers=unit("U-BJ0101"),
        json={"unit_id": "U-BJ010101"},
    )
    assert again.status_code == 409


async def test_dual_dispatch_gives_the_district_government_too(client: httpx.AsyncClient) -> None:
    await new_catalogue(
        client,
        [
            {
                "id": "R019",
                "category": "交通出行",
                "area": None,
                "keywords": [],
                "lead": "U-BJ-JT",
                "assist": [],
                "mode": "dual",
            }
        ],
    )
    ticket_id = await post(client, category="交通出行/公交线路")
    t = await settled(client, ticket_id, 2)
    assert (lead_of(t)["unit_id"], lead_of(t)["mode"]) == ("U-BJ-JT", "dual")
    assert [a["unit_id"] for a in assists_of(t)] == ["U-BJ01"]
    assert "双派" in lead_of(t)["reason"]


async def test_a_role_rule_resolves_to_the_street_office_of_the_area(
    client: httpx.AsyncClient,
) -> None:
    await new_catalogue(
        client,
        [
            {
                "id": "R100",
                "category": "社区服务",
                "area": None,
                "keywords": [],
                "lead": "role:street_office",
                "assist": ["role:community"],
            }
        ],
    )
    t = await settled(client, await post(client, category="社区服务/养老"), 2)
    assert lead_of(t)["unit_id"] == "U-BJ0101" and lead_of(t)["rule_id"] == "R100"
    assert [a["unit_id"] for a in assists_of(t)] == ["U-BJ010101"]


async def test_no_rule_falls_to_the_first_receiving_street_office(
    client: httpx.AsyncClient,
) -> None:
    t = await settled(client, await post(client, category="其他/未分类"), 1)
    lead = lead_of(t)
    assert (lead["unit_id"], lead["basis"], lead["rule_id"]) == (
        "U-BJ0101",
        "first_receiving",
        None,
    )
    assert "first-receiving street office" in lead["reason"]


async def test_no_rule_waits_in_the_queue_when_so_configured(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings(), "fallback", "queue")
    ticket_id = await post(client, category="其他/未分类")
    t = await settled(client, ticket_id)
    assert (t["status"], t["assignments"], t["dispatch_count"]) == ("queued", [], 0)
    assert "no catalogue rule matched" in t["queued_reason"]
    queue = (await client.get("/api/v1/routing/queue", headers=OPERATOR)).json()
    assert [q["id"] for q in queue] == [ticket_id]
    assert (await client.get("/api/v1/routing/queue", headers=unit("U-BJ0101"))).status_code == 403

    url = f"/api/v1/routing/tickets/{ticket_id}/dispatch"
    redo = await client.post(
        f"/api/v1/routing/tickets/{ticket_id}/redispatch",
        headers=OPERATOR,
        json={"lead_unit_id": "U-BJ0102", "reason": "x"},
    )
    assert redo.status_code == 409 and redo.json()["allowed_actions"] == ["dispatch"]
    ghost = await client.post(
        url, headers=OPERATOR, json={"lead_unit_id": "U-GHOST", "reason": "人工"}
    )
    assert ghost.status_code == 422 and "lead_unit_id" in ghost.json()["detail"]
    assert (await routed(client, ticket_id))["status"] == "queued"  # nothing changed

    r = await client.post(
        url,
        headers=OPERATOR,
        json={"lead_unit_id": "U-BJ0101", "assist_unit_ids": ["U-BJ010101"], "reason": "属地管理"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["dispatch_count"], lead_of(body)["basis"]) == (
        "dispatched",
        1,
        "manual",
    )
    assert (await client.get("/api/v1/routing/queue", headers=OPERATOR)).json() == []
    again = await client.post(
        url, headers=OPERATOR, json={"lead_unit_id": "U-BJ0101", "reason": "x"}
    )
    assert again.status_code == 409 and again.json()["allowed_actions"] == ["redispatch"]
    await wait_events(app, ticket_id, "ticket.dispatched", 2)


async def test_two_redispatches_put_the_ticket_under_key_supervision(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    ticket_id = await post(client)
    t = await settled(client, ticket_id, 2)
    first_lead = lead_of(t)
    url = f"/api/v1/routing/tickets/{ticket_id}/redispatch"

    same = await client.post(
        url, headers=OPERATOR, json={"lead_unit_id": "U-BJ01-CG", "reason": "x"}
    )
    assert same.status_code == 422 and "lead_unit_id" in same.json()["detail"]
    assert (
        await client.post(
            url, headers=unit("U-BJ01-CG"), json={"lead_unit_id": "U-BJ0101", "reason": "x"}
        )
    ).status_code == 403
    assert (await routed(client, ticket_id))["dispatch_count"] == 1  # nothing changed

    r1 = await client.post(
        url,
        headers=OPERATOR,
        json={"lead_unit_id": "U-BJ0101", "assist_unit_ids": [], "reason": "属街道职责"},
    )
    assert r1.status_code == 200, r1.text
    assert (r1.json()["dispatch_count"], r1.json()["key_supervision"]) == (2, False)
    assert lead_of(r1.json())["unit_id"] == "U-BJ0101"
    statuses = {a["id"]: a["status"] for a in r1.json()["assignments"]}
    assert statuses[first_lead["id"]] == "withdrawn"
    assert statuses[assists_of(t)[0]["id"]] == "withdrawn"  # [] replaced the assistants

    r2 = await client.post(
        url, headers=SUPERVISOR, json={"lead_unit_id": "U-BJ01-ZJ", "reason": "属住建职责"}
    )
    assert (
        r2.json()["dispatch_count"],
        r2.json()["redispatch_count"],
        r2.json()["key_supervision"],
    ) == (3, 2, True)
    r3 = await client.post(
        url, headers=OPERATOR, json={"lead_unit_id": "U-BJ01-CG", "reason": "再议"}
    )
    assert r3.json()["dispatch_count"] == 4

    (flag,) = await wait_events(app, ticket_id, "ticket.key_supervision")
    assert (flag.payload["dispatch_count"], flag.payload["reason"]) == (3, "redispatched")
    dispatched = await wait_events(app, ticket_id, "ticket.dispatched", 5)
    assert sorted(
        e.payload["dispatch_count"] for e in dispatched if e.payload["role"] == "lead"
    ) == [1, 2, 3, 4]
    assert {e.payload["basis"] for e in dispatched} == {"catalogue", "redispatch"}
    withdrawn = await wait_events(app, ticket_id, "assignment.withdrawn", 4)
    assert {e.payload["reason"] for e in withdrawn} == {"redispatched"}
    assert len(await events(app, ticket_id, "ticket.key_supervision")) == 1  # announced once

    # The withdrawn unit can no longer act; the new lead can.
    old = await client.post(
        f"/api/v1/assignments/{first_lead['id']}/sign", headers=unit("U-BJ01-CG")
    )
    assert old.status_code == 409 and old.json()["status_now"] == "withdrawn"


async def test_a_unit_sees_only_its_part_of_a_ticket(client: httpx.AsyncClient) -> None:
    ticket_id = await post(client)
    await settled(client, ticket_id, 2)
    mine = await client.get(
        f"/api/v1/routing/tickets/{ticket_id}", headers=bearer(Role.UNIT, "U-BJ0101")
    )
    assert [a["unit_id"] for a in mine.json()["assignments"]] == ["U-BJ0101"]
    other = await client.get(f"/api/v1/routing/tickets/{ticket_id}", headers=unit("U-BJ02-CG"))
    assert other.status_code == 403
    assert (await client.get("/api/v1/routing/tickets/NOPE", headers=OPERATOR)).status_code == 404
