"""Open311 GeoReport v2 conformance (every endpoint, JSON and XML, errors) and the mini-program:
lookup by number + phone (a wrong phone refused like an unknown number), rate limits, the plain
Chinese timeline, adding information."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import httpx
import pytest

from intake.taxonomy import service_code
from shared.clock import FrozenClock
from tests.support import COMPLAINT, GATEWAY, OPERATOR, eventually

KEY = "dev-open311-key"
NOISE = service_code("城乡建设/施工扰民")
STALLS = service_code("城市管理/市容环境/占道经营")
FORM = {
    "api_key": KEY,
    "service_code": STALLS,
    "lat": "30.22",
    "long": "120.12",
    "address_string": "滨江市江北区长安街道阳光社区东门",
    "description": "东门早市摊贩占道经营，早高峰车辆出不去。",
    "last_name": "赵",
    "phone": "13811112222",
    "email": "zhao@example.cn",
}


def xml(r: httpx.Response) -> ET.Element:
    assert r.headers["content-type"].startswith("text/xml"), r.headers
    assert r.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ET.fromstring(r.content)


async def create(api: httpx.AsyncClient, fmt: str = "json", **changes: str) -> httpx.Response:
    return await api.post(f"/open311/v2/requests.{fmt}", data={**FORM, **changes})


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_services_and_service_definition(api: httpx.AsyncClient, fmt: str) -> None:
    r = await api.get(f"/open311/v2/services.{fmt}")
    assert r.status_code == 200
    if fmt == "json":
        services = {s["service_code"]: s for s in r.json()}
        assert services[STALLS]["service_name"] == "占道经营"
        assert services[STALLS]["group"] == "城市管理" and services[STALLS]["metadata"] is False
        assert service_code("城市管理") not in services  # leaves only
    else:
        names = [e.findtext("service_name") for e in xml(r).iter("service")]
        assert "占道经营" in names  # real UTF-8, not escapes
    d = await api.get(f"/open311/v2/services/{STALLS}.{fmt}")
    assert d.status_code == 200
    if fmt == "json":
        assert d.json() == {"service_code": STALLS, "attributes": []}
    else:
        assert xml(d).findtext("service_code") == STALLS
    missing = await api.get(f"/open311/v2/services/NOPE.{fmt}")
    assert missing.status_code == 404


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_post_request_then_read_it_by_id_token_and_filters(
    api: httpx.AsyncClient, fmt: str
) -> None:
    r = await create(api, fmt)
    assert r.status_code == 201, r.text
    if fmt == "json":
        (created,) = r.json()
    else:
        element = next(xml(r).iter("request"))
        created = {c.tag: c.text for c in element}
    request_id, token = created["service_request_id"], created["token"]

    one = await api.get(f"/open311/v2/requests/{request_id}.json")
    (row,) = one.json()
    assert row["status"] == "open" and row["service_code"] == STALLS
    assert (row["lat"], row["long"]) == (30.22, 120.12)
    assert row["description"] == FORM["description"]
    assert "13811112222" not in one.text and "zhao" not in one.text  # no personal data

    async def dispatched() -> dict[str, Any] | None:
        (row,) = (await api.get(f"/open311/v2/requests/{request_id}.json")).json()
        return row if row["agency_responsible"] and row["expected_datetime"] else None

    row = await eventually(dispatched, what="agency and expected time")
    assert row["agency_responsible"]  # the lead unit's name
    assert row["expected_datetime"].endswith("+08:00")

    t = await api.get(f"/open311/v2/tokens/{token}.{fmt}")
    assert t.status_code == 200
    if fmt == "json":
        assert t.json() == [{"service_request_id": request_id, "token": token}]
    else:
        assert next(xml(t).iter("service_request_id")).text == request_id

    async def listed(**params: str) -> list[str]:
        r = await api.get("/open311/v2/requests.json", params=params)
        assert r.status_code == 200, r.text
        return [x["service_request_id"] for x in r.json()]

    assert await listed() == [request_id]
    assert await listed(service_request_id=f"{request_id},NOPE") == [request_id]
    assert await listed(service_code=STALLS) == [request_id]
    assert await listed(service_code=NOISE) == []
    assert await listed(status="open") == [request_id]
    assert await listed(status="closed") == []
    assert await listed(
        start_date="2026-11-23T00:00:00+08:00", end_date="2026-11-24T00:00:00+08:00"
    ) == [request_id]
    assert await listed(start_date="2026-11-24T00:00:00Z") == []
    xr = await api.get("/open311/v2/requests.xml")
    assert [e.text for e in xml(xr).iter("service_request_id")] == [request_id]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        ({"api_key": ""}, 403, "api_key"),
        ({"api_key": "stolen"}, 403, "api_key"),
        ({"service_code": ""}, 400, "service_code"),
        ({"service_code": "NOPE"}, 400, "service_code"),
        ({"lat": "", "long": "", "address_string": ""}, 400, "location"),
        ({"lat": "95", "long": "120.1"}, 400, "longitude/latitude"),
        ({"phone": "12"}, 400, "phone"),
        ({"description": ""}, 400, "description"),
    ],
)
async def test_post_errors_in_the_spec_format(
    api: httpx.AsyncClient, fmt: str, changes: dict[str, str], status: int, words: str
) -> None:
    r = await create(api, fmt, **changes)
    assert r.status_code == status, r.text
    if fmt == "json":
        (err,) = r.json()
        assert err["code"] == status and words in err["description"]
    else:
        e = next(xml(r).iter("error"))
        assert e.findtext("code") == str(status) and words in (e.findtext("description") or "")
    assert (await api.get("/open311/v2/requests.json")).json() == []


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/open311/v2/requests/NOPE.json", 404),
        ("/open311/v2/tokens/NOPE.xml", 404),
        ("/open311/v2/requests.json?status=lost", 400),
        ("/open311/v2/requests.json?start_date=yesterday", 400),
        ("/open311/v2/requests.json?service_code=NOPE", 400),
        ("/open311/v2/services.csv", 400),
    ],
)
async def test_read_errors_in_the_spec_format(
    api: httpx.AsyncClient, path: str, status: int
) -> None:
    r = await api.get(path)
    assert r.status_code == status
    if path.endswith(".xml"):
        assert xml(r).find("error") is not None
    else:
        assert r.json()[0]["code"] == status and r.json()[0]["description"]


# ---------------------------------------------------------------------------- mini-program


async def ticket_of(api: httpx.AsyncClient, **changes: Any) -> str:
    r = await api.post("/api/v1/tickets", json={**COMPLAINT, **changes}, headers=GATEWAY)
    assert r.status_code == 201
    return str(r.json()["id"])


async def test_a_citizen_follows_the_ticket_in_plain_chinese_and_adds_information(
    api: httpx.AsyncClient,
) -> None:
    ticket_id = await ticket_of(api)

    # Wait through the staff view: polling the mini-program would meet its own rate limit.
    async def dispatched() -> bool:
        r = await api.get(f"/api/v1/tickets/{ticket_id}", headers=OPERATOR)
        return bool(r.json()["lead_unit"])

    await eventually(dispatched, what="dispatch")
    r = await api.post(
        "/api/v1/miniprogram/lookup", json={"ticket_id": ticket_id, "phone": "13800135678"}
    )
    assert r.status_code == 200, r.text
    view: dict[str, Any] = r.json()
    assert view["handled_by"]
    texts = [line["text"] for line in view["timeline"]]
    assert texts[0] == "已受理（12345热线渠道）"
    assert any("由其负责办理" in t for t in texts)
    assert view["can_add_info"] and "phone" not in view

    r = await api.post(
        f"/api/v1/miniprogram/tickets/{ticket_id}/info",
        json={"phone": "138-0013-5678", "text": "今天早上又来了，摊位摆到了大门口。"},
    )
    assert r.status_code == 200, r.text
    assert any("诉求人补充信息" in line["text"] for line in r.json()["timeline"])
    full = (await api.get(f"/api/v1/tickets/{ticket_id}", headers=OPERATOR)).json()
    assert any(e["event"] == "ticket.info_added" for e in full["timeline"])


async def test_a_wrong_phone_is_refused_like_an_unknown_number(api: httpx.AsyncClient) -> None:
    ticket_id = await ticket_of(api)
    wrong = await api.post(
        "/api/v1/miniprogram/lookup", json={"ticket_id": ticket_id, "phone": "13900000000"}
    )
    unknown = await api.post(
        "/api/v1/miniprogram/lookup",
        json={"ticket_id": "20990101FFFFFFFFFF", "phone": "13800135678"},
    )
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json()["detail"] == unknown.json()["detail"]
    add = await api.post(
        f"/api/v1/miniprogram/tickets/{ticket_id}/info",
        json={"phone": "13900000000", "text": "补充"},
    )
    assert add.status_code == 404
    anonymous = await ticket_of(api, citizen={"anonymous": True})
    r = await api.post(
        "/api/v1/miniprogram/lookup", json={"ticket_id": anonymous, "phone": "13800135678"}
    )
    assert r.status_code == 404


async def test_lookups_are_rate_limited_per_ticket(
    api: httpx.AsyncClient, clock: FrozenClock
) -> None:
    ticket_id = await ticket_of(api)
    body = {"ticket_id": ticket_id, "phone": "13900000000"}
    for _ in range(5):
        assert (await api.post("/api/v1/miniprogram/lookup", json=body)).status_code == 404
    limited = await api.post("/api/v1/miniprogram/lookup", json=body)
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    assert limited.json()["retry_after"] > 0
    right = {**body, "phone": "13800135678"}
    assert (await api.post("/api/v1/miniprogram/lookup", json=right)).status_code == 429
    clock.advance(timedelta(minutes=11))
    assert (await api.post("/api/v1/miniprogram/lookup", json=right)).status_code == 200


async def test_information_only_while_open(api: httpx.AsyncClient) -> None:
    r = await api.post(
        "/api/v1/tickets",
        headers=OPERATOR,
        json={
            **COMPLAINT,
            "kind": "consultation",
            "category": "教育",
            "answer": "请携带户口簿到学校登记。",
        },
    )
    ticket_id = r.json()["id"]
    add = await api.post(
        f"/api/v1/miniprogram/tickets/{ticket_id}/info",
        json={"phone": "13800135678", "text": "谢谢"},
    )
    assert add.status_code == 409
