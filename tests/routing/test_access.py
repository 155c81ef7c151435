"""Access: a unit sees and acts only on its own assignments, whistles and returns; the centre's
dispatchers dispatch and decide; supervisors manage the directory and the catalogue. Every
refusal is a 403 problem and changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.auth import Role
from tests.routing.helpers import lead_of, post, routed, settled, unit
from tests.support import GATEWAY, OPERATOR, SUPERVISOR, bearer

BODIES: dict[str, dict[str, Any]] = {
    "sign": {},
    "contact": {},
    "reply": {"outcome": "solved", "explanation": "已办结"},
    "notes": {"text": "进展"},
    "extension": {"days": 3, "reason": "需协调"},
    "return": {"reason_code": "not_our_duty", "explanation": "非本单位职责"},
    "forward": {"unit_id": "U-BJ0101"},
}
OTHER_UNIT = bearer(Role.UNIT, "U-BJ02-CG")


@pytest.fixture
async def lead(client: httpx.AsyncClient) -> dict[str, Any]:
    return lead_of(await settled(client, await post(client), 2))


@pytest.mark.parametrize("action", list(BODIES))
@pytest.mark.parametrize("who", ["other unit", "operator", "supervisor"])
async def test_only_the_assigned_unit_acts_on_its_assignment(
    client: httpx.AsyncClient, lead: dict[str, Any], action: str, who: str
) -> None:
    headers = {"other unit": OTHER_UNIT, "operator": OPERATOR, "supervisor": SUPERVISOR}[who]
    r = await client.post(
        f"/api/v1/assignments/{lead['id']}/{action}", headers=headers, json=BODIES[action]
    )
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == "application/problem+json"
    after = (await client.get(f"/api/v1/assignments/{lead['id']}", headers=OPERATOR)).json()
    assert after["status"] == "dispatched"
    assert (
        await client.get(f"/api/v1/assignments/{lead['id']}/notes", headers=OPERATOR)
    ).json() == []


async def test_units_read_only_their_own(client: httpx.AsyncClient, lead: dict[str, Any]) -> None:
    assert (
        await client.get(f"/api/v1/assignments/{lead['id']}", headers=OTHER_UNIT)
    ).status_code == 403
    assert (
        await client.get(f"/api/v1/assignments/{lead['id']}/notes", headers=OTHER_UNIT)
    ).status_code == 403
    assert (await client.get("/api/v1/assignments", headers=OTHER_UNIT)).json() == []
    assert (
        await client.get(f"/api/v1/routing/tickets/{lead['ticket_id']}", headers=OTHER_UNIT)
    ).status_code == 403
    mine = await client.get("/api/v1/assignments", headers=unit("U-BJ01-CG"))
    assert [a["id"] for a in mine.json()] == [lead["id"]]


CENTRE_ACTIONS = [
    ("GET", "/api/v1/routing/queue", None),
    (
        "POST",
        "/api/v1/routing/tickets/{ticket}/dispatch",
        {"lead_unit_id": "U-BJ0101", "reason": "x"},
    ),
    (
        "POST",
        "/api/v1/routing/tickets/{ticket}/redispatch",
        {"lead_unit_id": "U-BJ0101", "reason": "x"},
    ),
    (
        "POST",
        "/api/v1/routing/tickets/{ticket}/determinations",
        {"participants": ["U-BJ0101"], "lead_unit_id": "U-BJ0101", "decision": "x"},
    ),
    ("GET", "/api/v1/routing/tickets/{ticket}/determinations", None),
    ("POST", "/api/v1/returns/R1/approve", {"unit_id": "U-BJ0101"}),
    ("POST", "/api/v1/returns/R1/reject", {"note": "x"}),
    ("GET", "/api/v1/areas", None),
    ("GET", "/api/v1/units/U-BJ0101", None),
    ("GET", "/api/v1/catalogue/rules", None),
    ("GET", "/api/v1/catalogue/versions", None),
    ("GET", "/api/v1/directory/versions", None),
]
ADMIN_ACTIONS = [
    (
        "POST",
        "/api/v1/areas",
        {"code": "BJ0109", "name": "新街道", "level": "street", "parent": "BJ01"},
    ),
    ("PATCH", "/api/v1/areas/BJ0101", {"name": "改名"}),
    ("DELETE", "/api/v1/areas/BJ010102", None),
    (
        "POST",
        "/api/v1/units",
        {"id": "U-NEW", "name": "新单位", "kind": "enterprise", "area_code": "BJ"},
    ),
    ("PATCH", "/api/v1/units/U-BJ0101", {"name": "改名"}),
    ("DELETE", "/api/v1/units/U-BJ010102", None),
    (
        "POST",
        "/api/v1/catalogue/versions",
        {"rules": [{"id": "X", "category": "教育", "lead": "U-BJ-JW"}]},
    ),
    ("POST", "/api/v1/reply-templates", {"category": "教育", "title": "t", "text": "x"}),
]


@pytest.mark.parametrize(("method", "path", "body"), CENTRE_ACTIONS)
async def test_units_and_gateways_do_not_dispatch_or_decide(
    client: httpx.AsyncClient, lead: dict[str, Any], method: str, path: str, body: Any
) -> None:
    url = path.format(ticket=lead["ticket_id"])
    for headers in (unit("U-BJ01-CG"), GATEWAY):
        r = await client.request(method, url, headers=headers, json=body)
        assert r.status_code == 403, (url, r.text)
    t = await routed(client, lead["ticket_id"])
    assert (t["dispatch_count"], lead_of(t)["unit_id"]) == (1, "U-BJ01-CG")


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ACTIONS)
async def test_only_supervisors_change_the_directory_and_catalogue(
    client: httpx.AsyncClient, method: str, path: str, body: Any
) -> None:
    before = (await client.get("/api/v1/directory/versions", headers=SUPERVISOR)).json()
    for headers in (OPERATOR, unit("U-BJ0101"), GATEWAY):
        r = await client.request(method, path, headers=headers, json=body)
        assert r.status_code == 403, (path, r.text)
    assert (await client.get("/api/v1/directory/versions", headers=SUPERVISOR)).json() == before
    assert len((await client.get("/api/v1/catalogue/versions", headers=SUPERVISOR)).json()) == 1


async def test_unknown_things_are_404(client: httpx.AsyncClient) -> None:
    for path in (
        "/api/v1/returns/NOPE",
        "/api/v1/whistles/NOPE",
        "/api/v1/areas/NOPE",
        "/api/v1/units/NOPE",
        "/api/v1/assignments/NOPE/notes",
    ):
        r = await client.get(path, headers=OPERATOR)
        assert r.status_code == 404 and "NOPE" in r.json()["detail"], (path, r.text)
    r = await client.post(
        "/api/v1/routing/tickets/NOPE/redispatch",
        headers=OPERATOR,
        json={"lead_unit_id": "U-BJ0101", "reason": "x"},
    )
    assert r.status_code == 404
