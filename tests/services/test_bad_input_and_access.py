"""Bad input gets a problem+json 4xx that names the field and changes nothing; every endpoint
admits only its owners."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.auth import Principal, Role, issue_token
from tests.slice import Clients, assignments_of, post_complaint
from tests.support import COMPLAINT, GATEWAY, OPERATOR, SUPERVISOR, bearer, eventually

PROBLEM = "application/problem+json"


def assert_problem(r: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field:
        assert field in body["detail"], body
    return body


async def no_tickets(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/tickets", headers=OPERATOR)
    assert r.json() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"citizen": {"name": "王先生", "phone": "12345"}}, "citizen.phone"),
        ({"citizen": {"name": "王先生"}}, "citizen"),
        ({"title": ""}, "title"),
        ({"title": "长" * 101}, "title"),
        ({"description": "诉" * 4001}, "description"),
        ({"channel": "carrier-pigeon"}, "channel"),
        ({"kind": "吐槽"}, "kind"),
        ({"urgency": "whenever"}, "urgency"),
        ({"secret_field": 1}, "secret_field"),
    ],
)
async def test_bad_ticket_is_refused_naming_the_field(
    client: httpx.AsyncClient, change: dict[str, Any], field: str
) -> None:
    r = await client.post("/api/v1/tickets", json={**COMPLAINT, **change}, headers=GATEWAY)
    assert_problem(r, 422, field)
    await no_tickets(client)


async def test_missing_field_is_named(client: httpx.AsyncClient) -> None:
    body = {k: v for k, v in COMPLAINT.items() if k != "category"}
    problem = assert_problem(
        await client.post("/api/v1/tickets", json=body, headers=GATEWAY), 422, "category"
    )
    assert problem["errors"][0]["field"] == "body.category"


async def test_anonymous_ticket_needs_no_phone_and_keeps_none(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/tickets",
        headers=GATEWAY,
        json={**COMPLAINT, "citizen": {"anonymous": True, "phone": "13800135678"}},
    )
    assert r.status_code == 201
    assert r.json()["citizen"] == {"name": None, "phone": None, "anonymous": True}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nonsense"},
        {
            "Authorization": "Bearer "
            + issue_token(Principal("x", Role.GATEWAY), secret="someone-elses-secret")
        },
    ],
    ids=["no token", "malformed", "forged"],
)
async def test_requests_without_a_valid_token_are_unauthorized(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    r = await client.post("/api/v1/tickets", json=COMPLAINT, headers=headers)
    assert_problem(r, 401)
    assert r.headers["www-authenticate"] == "Bearer"
    await no_tickets(client)


@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("POST", "/api/v1/tickets", Role.UNIT),
        ("POST", "/api/v1/tickets", Role.CITIZEN),
        ("GET", "/api/v1/tickets", Role.GATEWAY),
        ("GET", "/api/v1/assignments", Role.GATEWAY),
        ("GET", "/api/v1/units", Role.UNIT),
        ("GET", "/api/v1/callbacks", Role.UNIT),
        ("POST", "/api/v1/callbacks/CBX-1/result", Role.SUPERVISOR),
        ("GET", "/api/v1/analytics/rates", Role.CITIZEN),
        ("GET", "/api/v1/sla/overdue", Role.GATEWAY),
    ],
)
async def test_roles_reach_only_their_endpoints(
    client: httpx.AsyncClient, method: str, path: str, role: Role
) -> None:
    r = await client.request(method, path, json=COMPLAINT, headers=bearer(role, "U-BJ0101"))
    assert_problem(r, 403)


async def test_a_unit_acts_only_on_its_own_assignment_in_order(client: httpx.AsyncClient) -> None:
    c = Clients(client, client, client, client, client)
    ticket_id = (await post_complaint(c))["id"]

    async def lead() -> dict[str, Any] | None:
        return next((a for a in await assignments_of(c, ticket_id) if a["role"] == "lead"), None)

    assignment = await eventually(lead, what="dispatch")
    base = f"/api/v1/assignments/{assignment['id']}"
    other = bearer(Role.UNIT, "U-BJ02-CG")
    assert_problem(await client.post(f"{base}/sign", headers=other), 403)
    assert_problem(await client.get(base, headers=other), 403)
    assert_problem(await client.get(f"/api/v1/tickets/{ticket_id}", headers=other), 403)

    mine = bearer(Role.UNIT, assignment["unit_id"])
    early = assert_problem(
        await client.post(
            f"{base}/reply", headers=mine, json={"outcome": "solved", "explanation": "好"}
        ),
        409,
    )
    assert early["allowed_actions"] == ["sign"]
    bad = await client.post(
        f"{base}/reply", headers=mine, json={"outcome": "maybe", "explanation": "x"}
    )
    assert_problem(bad, 422, "outcome")
    assert (await client.get(base, headers=mine)).json()[
        "status"
    ] == "dispatched"  # nothing changed

    # Its own unit sees it in its worklist; another unit's worklist does not show it.
    assert [a["id"] for a in (await client.get("/api/v1/assignments", headers=mine)).json()] == [
        assignment["id"]
    ]
    assert (await client.get("/api/v1/assignments", headers=other)).json() == []


async def test_unknown_things_are_404_problems(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/tickets/NOPE", headers=OPERATOR), 404, "NOPE")
    assert_problem(await client.get("/api/v1/assignments/NOPE", headers=SUPERVISOR), 404, "NOPE")
    assert_problem(
        await client.post(
            "/api/v1/callbacks/NOPE/result",
            headers=OPERATOR,
            json={"contacted_by_unit": True, "solved": "solved", "satisfaction": "satisfied"},
        ),
        404,
        "NOPE",
    )
    assert_problem(await client.get("/api/v1/nowhere"), 404)


async def test_rates_refuse_bad_periods_and_other_units(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/api/v1/analytics/rates",
        params={"from": "2026-11-30", "to": "2026-11-01"},
        headers=SUPERVISOR,
    )
    assert_problem(r, 422, "to")
    r = await client.get(
        "/api/v1/analytics/rates", params={"from": "2026-13-01"}, headers=SUPERVISOR
    )
    assert_problem(r, 422, "from")
    r = await client.get(
        "/api/v1/analytics/rates",
        params={"unit_id": "U-BJ02-CG"},
        headers=bearer(Role.UNIT, "U-BJ01-CG"),
    )
    assert_problem(r, 403)
    mine = await client.get("/api/v1/analytics/rates", headers=bearer(Role.UNIT, "U-BJ01-CG"))
    assert mine.status_code == 200 and mine.json()["unit_id"] == "U-BJ01-CG"


async def test_chinese_is_sent_as_utf8_not_escaped(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/tickets", json=COMPLAINT, headers=GATEWAY)
    assert "早市摊贩占道经营".encode() in r.content
    assert b"\\u" not in r.content
