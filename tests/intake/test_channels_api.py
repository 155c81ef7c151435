"""Every channel into one ticket, through the HTTP API: normalisation, idempotent retries,
repeats and clusters, classification help, areas, search, bad input (nothing stored), privacy."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from intake.models import outbox
from shared.auth import Role
from tests.intake.test_rules import CHANNEL_CASES
from tests.slice import Clients, assignments_of
from tests.support import COMPLAINT, GATEWAY, OPERATOR, SUPERVISOR, bearer, eventually

PROBLEM = "application/problem+json"


async def events(app: FastAPI, type_: str | None = None) -> list[dict[str, Any]]:
    async with app.state.runtimes["intake"].sessionmaker() as session:
        rows = (
            await session.execute(select(outbox.table.c.body).order_by(outbox.table.c.id))
        ).all()
    found = [json.loads(r.body) for r in rows]
    return [e for e in found if type_ is None or e["type"] == type_]


async def report(
    api: httpx.AsyncClient, channel: str, native: dict[str, Any], **headers: str
) -> httpx.Response:
    return await api.post(
        f"/api/v1/channels/{channel}/reports", json=native, headers={**GATEWAY, **headers}
    )


def problem(r: httpx.Response, status: int, field: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert field in body["detail"], body
    return body


async def nothing_stored(api: httpx.AsyncClient, app: FastAPI) -> None:
    assert (await api.get("/api/v1/tickets", headers=OPERATOR)).json() == []
    assert await events(app) == []


EXPECTED_AREA = {
    "phone": "BJ010101",  # 阳光社区 in the address
    "app": "BJ010102",  # coordinates inside 翠湖社区's boundary
    "weibo": "BJ010101",  # 阳光社区 named in the post's text
    "grid": "BJ010101",  # GPS inside 阳光社区 (the grid id is not in the gazetteer)
}
NATIVE = {c[0]: c[1] for c in CHANNEL_CASES if c[0] != "open311"}


@pytest.mark.parametrize("channel", list(NATIVE))
async def test_each_channel_becomes_one_ticket(
    api: httpx.AsyncClient, intake_app: FastAPI, channel: str
) -> None:
    r = await report(api, channel, NATIVE[channel])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["outcome"] == "ticket" and not body["replayed"]
    ticket = body["ticket"]
    assert ticket["channel"] == channel and ticket["status"] == "received"
    assert ticket["kind"] in ("consultation", "help", "complaint", "report", "suggestion", "praise")
    assert "/" in ticket["category"] or ticket["category"] in ("教育", "交通出行", "劳动保障")
    if channel in EXPECTED_AREA:
        assert ticket["area_code"] == EXPECTED_AREA[channel]
    phone = ticket["citizen"]["phone"]
    assert phone is None or "****" in phone  # a gateway sees it masked
    assert ticket["channel_refs"] is None  # channel ids (openid …) for operators only
    full = (await api.get(f"/api/v1/tickets/{ticket['id']}", headers=OPERATOR)).json()
    assert full["channel_refs"]
    (received,) = await events(intake_app, "ticket.received")
    text = json.dumps(received, ensure_ascii=False)
    for secret in ("13800135678", "13900001111", "oABC123", "citizen@example.cn", "王先生"):
        assert secret not in text


async def test_text_only_channels_get_a_suggested_category_with_reasons(
    api: httpx.AsyncClient,
) -> None:
    ticket = (await report(api, "weibo", NATIVE["weibo"])).json()["ticket"]
    assert ticket["category"] == "城市管理/市容环境/占道经营"
    assert ticket["category_source"] == "suggested"
    assert any("占道" in reason for reason in ticket["classification_reasons"])


async def test_classification_help_explains_and_marks_emergencies(api: httpx.AsyncClient) -> None:
    r = await api.post(
        "/api/v1/classify",
        headers=OPERATOR,
        json={
            "title": "楼道煤气味",
            "description": "3单元楼道里煤气味很重，怀疑燃气泄漏，有老人在家",
        },
    )
    assert r.status_code == 200, r.text
    s = r.json()
    assert (s["category"], s["urgency"]) == ("公共服务/水电气/燃气", "emergency")
    assert any("燃气泄漏" in reason for reason in s["reasons"])
    assert (
        await api.post(
            "/api/v1/classify", headers=bearer(Role.UNIT, "U-BJ0101"), json={"description": "x"}
        )
    ).status_code == 403


async def test_a_retry_with_the_same_idempotency_key_gets_the_same_ticket(
    api: httpx.AsyncClient, intake_app: FastAPI
) -> None:
    native = {**NATIVE["sms"], "sms_id": "SMS-retry"}
    first = await report(api, "sms", native, **{"Idempotency-Key": "k-1"})
    again = await report(api, "sms", native, **{"Idempotency-Key": "k-1"})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["replayed"] and again.json()["ticket_id"] == first.json()["ticket_id"]
    changed = await report(
        api, "sms", {**native, "text": "翠湖社区停电一整天了"}, **{"Idempotency-Key": "k-1"}
    )
    problem(changed, 422, "Idempotency-Key")
    assert len(await events(intake_app, "ticket.received")) == 1


async def test_the_same_channel_message_id_is_the_same_report(
    api: httpx.AsyncClient, intake_app: FastAPI
) -> None:
    first = await report(api, "wechat", NATIVE["wechat"])
    again = await report(api, "wechat", NATIVE["wechat"])  # the gateway retried, no header
    assert again.status_code == 200 and again.json()["ticket_id"] == first.json()["ticket_id"]
    assert len(await events(intake_app, "ticket.received")) == 1


async def test_the_unified_form_honours_idempotency_keys(api: httpx.AsyncClient) -> None:
    headers = {**GATEWAY, "Idempotency-Key": "form-1"}
    first = await api.post("/api/v1/tickets", json=COMPLAINT, headers=headers)
    again = await api.post("/api/v1/tickets", json=COMPLAINT, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert len((await api.get("/api/v1/tickets", headers=OPERATOR)).json()) == 1


def wechat(msg: str, phone: str, title: str, content: str) -> dict[str, Any]:
    return {
        "msg_id": msg,
        "openid": f"o-{phone}",
        "phone": phone,
        "category": "城乡建设/施工扰民",
        "title": title,
        "content": content,
        "location": {"address": "滨江市江北区长安街道阳光社区"},
    }


async def test_the_same_citizen_again_is_a_repeat_not_a_second_dispatch(
    api: httpx.AsyncClient, intake_app: FastAPI
) -> None:
    first = await report(
        api,
        "wechat",
        wechat(
            "m1",
            "13600001111",
            "工地夜间施工",
            "工地夜间施工噪音太大，晚上十二点还在打桩，影响休息。",
        ),
    )
    ticket_id = first.json()["ticket_id"]
    again = await report(
        api,
        "wechat",
        wechat("m2", "13600001111", "又在半夜打桩", "半夜工地还在施工，打桩声音吵得睡不着觉。"),
    )
    assert again.status_code == 200, again.text
    body = again.json()
    assert (body["outcome"], body["ticket_id"]) == ("repeat", ticket_id)
    assert body["ticket"]["repeat_count"] == 1
    assert body["ticket"]["repeats"][0]["title"] == "又在半夜打桩"
    assert any("重复诉求" in line["text"] for line in body["ticket"]["timeline"])
    (linked,) = await events(intake_app, "ticket.repeat_linked")
    assert linked["ticket_id"] == ticket_id and linked["payload"]["repeat_count"] == 1
    assert len(await events(intake_app, "ticket.received")) == 1

    # Another matter from the same citizen at the same place is a ticket of its own.
    other = await report(
        api,
        "wechat",
        wechat("m3", "13600001111", "渣土车扬尘", "工地渣土车不盖篷布，道路上全是泥土和扬尘。"),
    )
    assert other.status_code == 201 and other.json()["outcome"] == "ticket"

    c = Clients(api, api, api, api, api)

    async def leads() -> list[dict[str, Any]] | None:
        found = [a for a in await assignments_of(c, ticket_id) if a["role"] == "lead"]
        return found or None

    assert len(await eventually(leads, what="dispatch of the first report")) == 1
    listed = (await api.get("/api/v1/tickets", headers=OPERATOR)).json()
    assert sorted(t["repeat_count"] for t in listed) == [0, 1]


async def test_three_people_about_one_matter_form_a_cluster(
    api: httpx.AsyncClient, intake_app: FastAPI
) -> None:
    texts = [
        "工地夜间施工噪音太大，晚上十二点还在打桩，影响休息。",
        "半夜工地还在施工，打桩声音吵得睡不着觉。",
        "工地晚上打桩施工，噪音扰民，孩子没法睡觉。",
    ]
    ids = []
    for i, text in enumerate(texts):
        r = await report(api, "wechat", wechat(f"c{i}", f"1360000200{i}", "夜间施工噪音", text))
        assert r.status_code == 201
        ids.append(r.json()["ticket_id"])
        if i < 2:
            assert r.json()["ticket"]["cluster_id"] is None  # two people are not a cluster
    (flagged,) = await events(intake_app, "ticket.cluster_flagged")
    assert sorted(flagged["payload"]["joined_ticket_ids"]) == sorted(ids)
    assert flagged["payload"]["reporters"] == flagged["payload"]["size"] == 3
    assert flagged["payload"]["area_code"] == "BJ010101"
    cluster = flagged["payload"]["cluster_id"]
    members = (
        await api.get("/api/v1/tickets", params={"cluster": cluster}, headers=OPERATOR)
    ).json()
    assert sorted(t["id"] for t in members) == sorted(ids)


async def test_three_people_about_different_matters_are_no_cluster(
    api: httpx.AsyncClient, intake_app: FastAPI
) -> None:
    texts = [
        "工地夜间施工噪音太大，晚上十二点还在打桩，影响休息。",
        "工地渣土车不盖篷布，道路上全是泥土和扬尘。",
        "工地围挡倒了一半，行人只能走机动车道。",
    ]
    for i, (title, text) in enumerate(
        zip(("夜间打桩", "渣土扬尘", "围挡倒塌"), texts, strict=True)
    ):
        r = await report(api, "wechat", wechat(f"d{i}", f"1360000300{i}", title, text))
        assert r.status_code == 201
    assert await events(intake_app, "ticket.cluster_flagged") == []


async def test_area_from_coordinates_else_from_the_address(api: httpx.AsyncClient) -> None:
    inside = {
        **NATIVE["app"],
        "report_id": "A1",
        "location": {"longitude": 120.12, "latitude": 30.22},
    }
    assert (await report(api, "app", inside)).json()["ticket"]["area_code"] == "BJ010101"
    outside = {
        **NATIVE["app"],
        "report_id": "A2",
        "location": {
            "address": "滨江市江北区长安街道翠湖社区",
            "longitude": 121.5,
            "latitude": 31.2,
        },
    }
    assert (await report(api, "app", outside)).json()["ticket"]["area_code"] == "BJ010102"


async def test_operators_search_by_status_channel_category_area_time_and_text(
    api: httpx.AsyncClient,
) -> None:
    for channel in ("phone", "sms", "web"):
        assert (await report(api, channel, NATIVE[channel])).status_code == 201

    async def ids(**params: str) -> list[str]:
        r = await api.get("/api/v1/tickets", params=params, headers=OPERATOR)
        assert r.status_code == 200, r.text
        return [t["channel"] for t in r.json()]

    assert await ids(channel="sms") == ["sms"]
    assert sorted(await ids(category="城市管理")) == ["phone", "web"]
    assert await ids(category="城市管理/市容环境/占道经营") == ["phone"]
    assert await ids(category="城市管理/市容") == []  # a node, not a text prefix
    assert sorted(await ids(area="BJ01")) == ["phone", "sms"]  # 和平里 is 江北区 too
    assert await ids(q="停水") == ["sms"]
    assert (
        len(await ids(**{"from": "2026-11-23T00:00:00+08:00", "to": "2026-11-24T00:00:00+08:00"}))
        == 3
    )
    assert await ids(**{"from": "2026-11-24T00:00:00+08:00"}) == []
    problem(
        await api.get("/api/v1/tickets", params={"channel": "pigeon"}, headers=OPERATOR),
        422,
        "channel",
    )
    problem(
        await api.get("/api/v1/tickets", params={"from": "yesterday"}, headers=OPERATOR),
        422,
        "from",
    )


async def test_an_offset_past_any_page_is_a_422_not_a_crash(api: httpx.AsyncClient) -> None:
    """Found by the fuzzing in tests/fuzz: an offset beyond a 64-bit integer reached the
    database (SQLite: OverflowError, a 500)."""
    huge = {"offset": str(2**63)}
    problem(await api.get("/api/v1/tickets", params=huge, headers=OPERATOR), 422, "offset")
    by_caller = await api.post(
        "/api/v1/tickets/by-caller", params=huge, json={"phone": "13800135678"}, headers=OPERATOR
    )
    problem(by_caller, 422, "offset")


async def test_expected_completion_comes_from_the_lead_deadline(api: httpx.AsyncClient) -> None:
    ticket_id = (await report(api, "phone", NATIVE["phone"])).json()["ticket_id"]

    async def expected() -> str | None:
        body = (await api.get(f"/api/v1/tickets/{ticket_id}", headers=SUPERVISOR)).json()
        return body["expected_at"] if body["lead_unit"] else None

    assert (await eventually(expected, what="the lead's completion deadline")).startswith("2026-")


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("phone", {**NATIVE["phone"], "category": "城市管理/飞碟降落"}, "category"),
    ("phone", {**NATIVE["phone"], "caller_number": "110"}, "caller_number"),
    ("phone", {**NATIVE["phone"], "title": "标" * 101}, "title"),
    ("phone", {**NATIVE["phone"], "longitude": 200.0, "latitude": 30.2}, "longitude"),
    ("phone", {**NATIVE["phone"], "longitude": 120.1}, "longitude/latitude"),
    ("web", {**NATIVE["web"], "content": "诉" * 4001}, "content"),
    (
        "web",
        {
            **NATIVE["web"],
            "attachments": [
                {
                    "name": "a.exe",
                    "content_type": "application/x-msdownload",
                    "size": 10,
                    "url": "https://x/a.exe",
                }
            ],
        },
        "attachments[0].content_type",
    ),
    (
        "web",
        {
            **NATIVE["web"],
            "attachments": [
                {
                    "name": "b.jpg",
                    "content_type": "image/jpeg",
                    "size": 50 * 1024 * 1024,
                    "url": "https://x/b.jpg",
                }
            ],
        },
        "attachments[0].size",
    ),
    (
        "web",
        {
            **NATIVE["web"],
            "attachments": [{"name": "c.jpg", "content_type": "image/jpeg", "size": 10}],
        },
        "attachments[0]",
    ),
    ("web", {k: v for k, v in NATIVE["web"].items() if k != "phone"}, "phone"),
    ("wechat", {**NATIVE["wechat"], "phone": "1380013567a"}, "phone"),
    ("carrier-pigeon", {"text": "咕咕"}, "channel"),
    ("sms", {"sms_id": "S", "from_number": "13800000000", "text": "你好，在吗"}, "category"),
]


@pytest.mark.parametrize(("channel", "native", "field"), BAD, ids=[f"{c}-{f}" for c, _, f in BAD])
async def test_bad_reports_are_refused_naming_the_field_and_nothing_is_stored(
    api: httpx.AsyncClient, intake_app: FastAPI, channel: str, native: dict[str, Any], field: str
) -> None:
    problem(await report(api, channel, native), 422, field)
    await nothing_stored(api, intake_app)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "城市管理/不存在的分类"}, "category"),
        ({"longitude": 120.1, "latitude": 95.0}, "longitude/latitude"),
        (
            {
                "attachments": [
                    {"name": "x.jpg", "content_type": "image/gif", "size": 5, "url": "u"}
                ]
            },
            "attachments[0].content_type",
        ),
    ],
)
async def test_the_unified_form_checks_taxonomy_coordinates_and_attachments(
    api: httpx.AsyncClient, intake_app: FastAPI, change: dict[str, Any], field: str
) -> None:
    problem(
        await api.post("/api/v1/tickets", json={**COMPLAINT, **change}, headers=GATEWAY), 422, field
    )
    await nothing_stored(api, intake_app)


async def test_channel_reports_need_a_gateway_or_an_operator(api: httpx.AsyncClient) -> None:
    for role in (Role.UNIT, Role.CITIZEN, Role.SUPERVISOR):
        r = await api.post(
            "/api/v1/channels/sms/reports", json=NATIVE["sms"], headers=bearer(role, "U-BJ0101")
        )
        assert r.status_code == 403
    assert (await api.post("/api/v1/channels/sms/reports", json=NATIVE["sms"])).status_code == 401
