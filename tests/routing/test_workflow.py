"""The unit's workflow with a lead and an assisting unit: sign, contact, progress notes,
reply templates, replies (unsolvable needs a reason and a legal path), the lead waiting for its
assistant until the assistant replies or times out, and re-handling after a re-open."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

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
from tests.slice import Clients, assignments_of
from tests.support import OPERATOR, eventually

SOLVED = {"outcome": "solved", "explanation": "已清理占道摊位，并安排每日巡查。"}


async def test_lead_and_assisting_unit_work_the_ticket_through(
    client: httpx.AsyncClient, app: FastAPI, clock: FrozenClock
) -> None:
    ticket_id = await post(client)
    t = await settled(client, ticket_id, 2)
    lead, assist = lead_of(t), assists_of(t)[0]
    base = f"/api/v1/assignments/{lead['id']}"
    me = unit(lead["unit_id"])

    # Notes only while the work is under way; the refusal names what is open now.
    early = await client.post(f"{base}/notes", headers=me, json={"text": "已派人核查"})
    assert early.status_code == 409
    assert (early.json()["allowed_actions"], early.json()["also_allowed"]) == (["sign"], ["return"])

    signed = await step(client, lead, "sign")
    assert signed["also_allowed"] == ["extension", "note", "return"]
    note = await client.post(f"{base}/notes", headers=me, json={"text": "已派执法队员现场核查"})
    assert note.status_code == 201, note.text
    await step(client, lead, "contact")
    clock.advance(timedelta(minutes=30))
    await client.post(f"{base}/notes", headers=me, json={"text": "摊贩已劝离，明早复查"})
    notes = (await client.get(f"{base}/notes", headers=OPERATOR)).json()
    assert [n["text"] for n in notes] == ["已派执法队员现场核查", "摊贩已劝离，明早复查"]
    assert (await client.get(f"{base}/notes", headers=unit("U-BJ02-CG"))).status_code == 403
    (noted, _) = await wait_events(app, ticket_id, "assignment.progress_noted", 2)
    assert "text" not in noted.payload  # the note's text stays in routing

    # The lead waits for its assisting unit.
    waiting = await client.post(f"{base}/reply", headers=me, json=SOLVED)
    assert waiting.status_code == 409 and waiting.json()["waiting_for"] == ["U-BJ0101"]
    assert (await client.get(base, headers=me)).json()["status"] == "contacted"  # unchanged

    await step(client, assist, "sign", "contact")
    r = await client.post(
        f"/api/v1/assignments/{assist['id']}/reply",
        headers=unit("U-BJ0101"),
        json={"outcome": "solved", "explanation": "街道已配合清理。"},
    )
    assert r.status_code == 200, r.text
    assert (await wait_events(app, ticket_id, "assignment.replied"))[0].payload["role"] == "assist"
    assert (
        await _events_named(app, ticket_id, "ticket.replied") == []
    )  # an assistant replies to the lead

    done = await client.post(f"{base}/reply", headers=me, json=SOLVED)
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["allowed_actions"], done.json()["also_allowed"]) == (
        "replied",
        [],
        [],
    )
    (closed,) = await wait_events(app, ticket_id, "ticket.replied")
    assert closed.payload["lead_unit_id"] == "U-BJ01-CG" and closed.payload["round"] == 1


async def _events_named(app: FastAPI, ticket_id: str, type_: str) -> list[Any]:
    from tests.routing.helpers import events

    return await events(app, ticket_id, type_)


async def test_unsolvable_needs_reason_and_legal_path(client: httpx.AsyncClient) -> None:
    t = await settled(client, await post(client, category="教育/招生入学"), 1)
    lead = lead_of(t)
    await step(client, lead, "sign", "contact")
    url = f"/api/v1/assignments/{lead['id']}/reply"
    body = {"outcome": "unsolvable", "explanation": "该诉求不属于政策支持范围。"}
    r = await client.post(url, headers=unit(lead["unit_id"]), json=body)
    assert r.status_code == 422 and "reason" in r.json()["detail"]
    r = await client.post(
        url, headers=unit(lead["unit_id"]), json={**body, "reason": "超出学区划片政策"}
    )
    assert r.status_code == 422 and "legal_path" in r.json()["detail"]
    assert (await client.get(f"/api/v1/assignments/{lead['id']}", headers=OPERATOR)).json()[
        "status"
    ] == "contacted"
    r = await client.post(
        url,
        headers=unit(lead["unit_id"]),
        json={
            **body,
            "reason": "超出学区划片政策",
            "legal_path": "可依法申请行政复议或提起行政诉讼",
        },
    )
    assert r.status_code == 200, r.text
    assert (r.json()["unsolvable_reason"], r.json()["legal_path"]) == (
        "超出学区划片政策",
        "可依法申请行政复议或提起行政诉讼",
    )


async def test_an_assistant_that_times_out_no_longer_holds_up_the_lead(
    client: httpx.AsyncClient, app: FastAPI, clock: FrozenClock
) -> None:
    ticket_id = await post(client)
    t = await settled(client, ticket_id, 2)
    lead, assist = lead_of(t), assists_of(t)[0]
    await step(client, lead, "sign", "contact")
    await step(client, assist, "sign")
    clock.advance(timedelta(hours=71))
    r = await client.post(
        f"/api/v1/assignments/{lead['id']}/reply", headers=unit("U-BJ01-CG"), json=SOLVED
    )
    assert r.status_code == 409
    clock.advance(timedelta(hours=1))  # 72 hours after dispatch: ROUTING_ASSIST_REPLY_HOURS
    r = await client.post(
        f"/api/v1/assignments/{lead['id']}/reply", headers=unit("U-BJ01-CG"), json=SOLVED
    )
    assert r.status_code == 200, r.text
    after = {a["id"]: a["status"] for a in (await routed(client, ticket_id))["assignments"]}
    assert after[assist["id"]] == "timed_out"
    (withdrawn,) = await wait_events(app, ticket_id, "assignment.withdrawn")
    assert (withdrawn.payload["unit_id"], withdrawn.payload["reason"]) == ("U-BJ0101", "timed_out")
    await wait_events(app, ticket_id, "ticket.replied")


async def test_reply_templates_are_found_for_a_category_and_its_parents(
    client: httpx.AsyncClient,
) -> None:
    for category, title in [("城市管理", "通用"), ("城市管理/市容环境/占道经营", "占道经营")]:
        r = await client.post(
            "/api/v1/reply-templates",
            headers=ADMIN,
            json={
                "category": category,
                "outcome": "solved",
                "title": title,
                "text": f"{title}：经核查……",
            },
        )
        assert r.status_code == 201, r.text
    assert (
        await client.post(
            "/api/v1/reply-templates",
            headers=OPERATOR,
            json={"category": "教育", "title": "x", "text": "y"},
        )
    ).status_code == 403
    found = await client.get(
        "/api/v1/reply-templates",
        params={"category": "城市管理/市容环境/占道经营"},
        headers=unit("U-BJ01-CG"),
    )
    assert [t["title"] for t in found.json()] == ["占道经营", "通用"]
    assert (
        await client.get("/api/v1/reply-templates", params={"category": "教育"}, headers=OPERATOR)
    ).json() == []


async def test_a_reopened_ticket_goes_back_to_its_lead_for_round_two(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    c = Clients(client, client, client, client, client)
    ticket_id = await post(client)
    t = await settled(client, ticket_id, 2)
    await step(client, assists_of(t)[0], "sign", "contact")
    await client.post(
        f"/api/v1/assignments/{assists_of(t)[0]['id']}/reply", headers=unit("U-BJ0101"), json=SOLVED
    )
    await step(client, lead_of(t), "sign", "contact")
    await client.post(
        f"/api/v1/assignments/{lead_of(t)['id']}/reply", headers=unit("U-BJ01-CG"), json=SOLVED
    )

    async def due() -> list[dict[str, Any]]:
        r = await client.get("/api/v1/callbacks", params={"ticket_id": ticket_id}, headers=OPERATOR)
        return list(r.json())

    (task,) = await eventually(due, what="the callback")
    r = await client.post(
        f"/api/v1/callbacks/{task['id']}/result",
        headers=OPERATOR,
        json={
            "contacted_by_unit": True,
            "solved": "unsolved",
            "satisfaction": "dissatisfied",
            "reopen": True,
            "reopen_reason": "摊贩第二天又回来了",
        },
    )
    assert r.status_code == 200, r.text

    async def round_two() -> dict[str, Any] | None:
        return next((a for a in await assignments_of(c, ticket_id) if a["round"] == 2), None)

    again = await eventually(round_two, what="round 2")
    assert (again["unit_id"], again["role"], again["basis"], again["rule_id"]) == (
        "U-BJ01-CG",
        "lead",
        "reopened",
        "R005",
    )
    assert "重办（第2轮）：摊贩第二天又回来了" in again["reason"]
    await step(client, again, "sign", "contact")  # round 2 has no assistants to wait for
    r = await client.post(
        f"/api/v1/assignments/{again['id']}/reply", headers=unit("U-BJ01-CG"), json=SOLVED
    )
    assert r.status_code == 200, r.text
    replies = await wait_events(app, ticket_id, "ticket.replied", 2)
    assert sorted(e.payload["round"] for e in replies) == [1, 2]
