"""Bad input gets a problem+json 4xx that names the field and changes nothing; every endpoint
admits only its owners."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from intake.config import settings as intake_settings
from shared.auth import Principal, Role, issue_token
from shared.http import HttpSettings, forwarded_client, parse_networks
from shared.problems import problem as problem_response
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


# ---------------------------------------------------------------------------- input hygiene


def field_of(problem: dict[str, Any]) -> list[str]:
    return [e["field"] for e in problem["errors"]]


@pytest.mark.parametrize(
    ("change", "field", "kind"),
    [
        ({"title": "早市\x00占道"}, "body.title", "control_character"),
        ({"description": "占道\x1b[2J经营"}, "body.description", "control_character"),
        ({"title": "\u200b\u200b\u200b"}, "body.title", "invisible_only"),
        ({"title": "\ufeff\u200d\u2060\u00ad"}, "body.title", "invisible_only"),
        ({"title": "早市\n占道"}, "body.title", "line_break"),
        ({"address": "长安街道\x00"}, "body.address", "control_character"),
        ({"citizen": {"name": "\u202e\u200b", "phone": "13800135678"}}, "body.citizen.name", None),
    ],
)
async def test_control_and_invisible_text_is_refused_naming_the_field(
    client: httpx.AsyncClient, change: dict[str, Any], field: str, kind: str | None
) -> None:
    r = await client.post("/api/v1/tickets", json={**COMPLAINT, **change}, headers=GATEWAY)
    problem = assert_problem(r, 422, field)
    assert field_of(problem) == [field]
    if kind:
        assert problem["errors"][0]["type"] == kind
    await no_tickets(client)


async def test_bidi_overrides_are_removed_from_names_and_text(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/tickets",
        headers=GATEWAY,
        json={
            **COMPLAINT,
            "title": "早市\u202e营经道占",
            "citizen": {"name": "\u202e生先王\u202c", "phone": "13800135678"},
        },
    )
    assert r.status_code == 201, r.text
    ticket = (await client.get(f"/api/v1/tickets/{r.json()['id']}", headers=OPERATOR)).json()
    assert ticket["citizen"]["name"] == "生先王"
    assert ticket["title"] == "早市营经道占"


async def test_a_huge_body_is_refused_before_it_is_read(client: httpx.AsyncClient) -> None:
    huge = b'{"title": "' + b"x" * (90 * 1024 * 1024) + b'"}'
    started = time.monotonic()
    r = await client.post(
        "/api/v1/tickets", content=huge, headers={**GATEWAY, "Content-Type": "application/json"}
    )
    assert time.monotonic() - started < 5
    assert field_of(assert_problem(r, 413, "body")) == ["body"]
    await no_tickets(client)


async def test_a_huge_streamed_body_is_refused_once_past_the_limit(
    client: httpx.AsyncClient,
) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
        nonlocal sent
        yield b'{"title": "'
        for _ in range(90):
            sent += 1
            yield b"x" * (1024 * 1024)

    r = await client.post(
        "/api/v1/tickets", content=chunks(), headers={**GATEWAY, "Content-Type": "application/json"}
    )
    assert_problem(r, 413, "body")
    assert sent < 10  # the limit is a few MB: the rest was never asked for
    await no_tickets(client)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ('{"title": "早市'.encode(), "application/json"),
        (b"title=early", "application/x-www-form-urlencoded"),
        ("早市摊贩占道经营".encode(), "text/plain"),
        (b"", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"title": "\xff\xfe"}', "application/json"),
    ],
    ids=["truncated JSON", "a form", "plain text", "empty", "an array", "not UTF-8"],
)
async def test_a_body_that_is_not_a_json_object_is_named_body(
    client: httpx.AsyncClient, content: bytes, content_type: str
) -> None:
    r = await client.post(
        "/api/v1/tickets", content=content, headers={**GATEWAY, "Content-Type": content_type}
    )
    problem = assert_problem(r, 422, "body")
    assert field_of(problem) == ["body"]
    await no_tickets(client)


PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance", "errors"}


async def test_domain_and_validation_errors_have_one_shape(client: httpx.AsyncClient) -> None:
    validation = assert_problem(
        await client.post(
            "/api/v1/tickets", json={**COMPLAINT, "title": "长" * 101}, headers=GATEWAY
        ),
        422,
    )
    domain = assert_problem(
        await client.post(
            "/api/v1/tickets",
            json={**COMPLAINT, "category": "城市管理/不存在的分类"},
            headers=GATEWAY,
        ),
        422,
    )
    for problem, field in ((validation, "body.title"), (domain, "body.category")):
        assert set(problem) == PROBLEM_MEMBERS, problem
        assert problem["type"].startswith("https://") and problem["title"] == "Invalid input"
        assert [set(e) >= {"field", "message"} for e in problem["errors"]] == [True]
        assert field_of(problem) == [field]
        assert field.removeprefix("body.") in problem["detail"]
    missing = assert_problem(await client.get("/api/v1/tickets/NOPE", headers=OPERATOR), 404)
    assert set(missing) == PROBLEM_MEMBERS and field_of(missing) == ["path.ticket_id"]
    route = assert_problem(await client.get("/api/v1/nowhere"), 404)
    assert set(route) == PROBLEM_MEMBERS and route["errors"] == []
    query = assert_problem(
        await client.get("/api/v1/tickets", params={"limit": 0}, headers=OPERATOR), 422
    )
    assert field_of(query) == ["query.limit"]


async def test_a_conflict_keeps_its_members_in_the_one_shape(client: httpx.AsyncClient) -> None:
    c = Clients(client, client, client, client, client)
    ticket_id = (await post_complaint(c))["id"]

    async def lead() -> dict[str, Any] | None:
        return next((a for a in await assignments_of(c, ticket_id) if a["role"] == "lead"), None)

    assignment = await eventually(lead, what="dispatch")
    r = await client.post(
        f"/api/v1/assignments/{assignment['id']}/contact",
        headers=bearer(Role.UNIT, assignment["unit_id"]),
    )
    problem = assert_problem(r, 409)
    assert PROBLEM_MEMBERS <= set(problem) and problem["errors"] == []
    assert problem["allowed_actions"] == ["sign"]


# ---------------------------------------------------------------------------- client address


LOOKUP = "/api/v1/miniprogram/lookup"


def lookup(n: int) -> dict[str, str]:
    return {"ticket_id": f"2026112300{n:04d}", "phone": "13800135678"}


@contextlib.asynccontextmanager
async def connected_from(app: FastAPI, peer: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as c:
        yield c


async def test_the_lookup_limit_keys_on_the_forwarded_client_only_behind_a_trusted_proxy(
    app: FastAPI,
) -> None:
    app.state.trusted_proxies = parse_networks("10.0.0.0/8")
    per_client = intake_settings().lookup_max_per_client
    async with connected_from(app, "10.0.0.2") as proxy:
        # Behind the trusted proxy each citizen has their own bucket.
        for n in range(per_client + 1):
            forwarded = {"X-Forwarded-For": f"203.0.113.{n + 1}, 10.0.0.9"}
            r = await proxy.post(LOOKUP, json=lookup(n), headers=forwarded)
            assert r.status_code == 404, r.text
        # …and one citizen still has one.
        for n in range(per_client):
            r = await proxy.post(
                LOOKUP, json=lookup(100 + n), headers={"X-Forwarded-For": "198.51.100.1"}
            )
            assert r.status_code == 404, r.text
        r = await proxy.post(LOOKUP, json=lookup(999), headers={"X-Forwarded-For": "198.51.100.1"})
        assert_problem(r, 429)
        assert int(r.headers["Retry-After"]) >= 1
    async with connected_from(app, "198.51.100.50") as direct:
        # A client that is not a trusted proxy cannot pick its address with the header.
        for n in range(per_client):
            forwarded = {"X-Forwarded-For": f"203.0.113.{n + 1}"}
            assert (
                await direct.post(LOOKUP, json=lookup(200 + n), headers=forwarded)
            ).status_code == 404
        r = await direct.post(LOOKUP, json=lookup(300), headers={"X-Forwarded-For": "192.0.2.1"})
        problem = assert_problem(r, 429)
        assert r.headers["Retry-After"] == str(problem["retry_after"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("198.51.100.7", ["203.0.113.1"], "198.51.100.7"),  # not a proxy: the header is ignored
        ("10.0.0.2", [], "10.0.0.2"),
        ("10.0.0.2", ["203.0.113.1"], "203.0.113.1"),
        ("10.0.0.2", ["203.0.113.1, 10.0.0.3"], "203.0.113.1"),  # two proxies
        ("10.0.0.2", ["192.0.2.66, 203.0.113.1"], "203.0.113.1"),  # a spoofed first entry
        ("10.0.0.2", ["192.0.2.66", "203.0.113.1"], "203.0.113.1"),  # two headers
        ("10.0.0.2", ["garbage, 203.0.113.1"], "203.0.113.1"),
        ("10.0.0.2", ["203.0.113.1, garbage"], "10.0.0.2"),
        ("10.0.0.2", ["203.0.113.1:51234"], "203.0.113.1"),
        ("::ffff:10.0.0.2", ["2001:db8::7"], "2001:db8::7"),
        ("10.0.0.2", ["10.0.0.5"], "10.0.0.5"),  # only proxies: the farthest one
    ],
)
def test_forwarded_client(peer: str, forwarded: list[str], client: str) -> None:
    assert forwarded_client(peer, forwarded, parse_networks("10.0.0.0/8, 127.0.0.1")) == client


def test_the_front_door_is_configured_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOTLINE_TRUSTED_PROXIES", "10.0.0.0/8, fd00::/8")
    monkeypatch.setenv("HOTLINE_MAX_BODY_BYTES", "65536")
    settings = HttpSettings()
    assert [str(n) for n in settings.proxies()] == ["10.0.0.0/8", "fd00::/8"]
    assert settings.max_body_bytes == 65536
    assert HttpSettings(trusted_proxies="").proxies() == ()


# ---------------------------------------------------------------------------- closed sets, URLs


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/tickets", {"status": "lost"}, "query.status"),
        ("/api/v1/tickets", {"channel": "carrier-pigeon"}, "query.channel"),
        ("/api/v1/assignments", {"status": "sleeping"}, "query.status"),
        ("/api/v1/returns", {"status": "maybe"}, "query.status"),
        ("/api/v1/sla/extensions", {"status": "forgotten"}, "query.status"),
        ("/api/v1/sla/supervision", {"level": "galactic"}, "query.level"),
        ("/api/v1/callbacks", {"status": "bored"}, "query.status"),
        ("/api/v1/analytics/rates", {"unit_class": "ministry"}, "query.unit_class"),
        ("/api/v1/analytics/rankings", {"metric": "happiness"}, "query.metric"),
        ("/api/v1/analytics/hot-topics", {"period": "fortnight"}, "query.period"),
        ("/api/v1/analytics/reports/fortnightly", {}, "path.kind"),
        ("/api/v1/analytics/reports/monthly", {"format": "pdf"}, "query.format"),
    ],
)
async def test_a_value_outside_a_closed_set_is_refused_naming_the_parameter(
    client: httpx.AsyncClient, path: str, params: dict[str, str], field: str
) -> None:
    r = await client.get(path, params=params, headers=SUPERVISOR)
    problem = assert_problem(r, 422, field)
    assert field_of(problem) == [field]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/tickets/2026%00", "path"),
        ("/api/v1/tickets?q=%E5%B8%82%00", "query.q"),
        ("/api/v1/tickets?category=%1B%5B2J", "query.category"),
    ],
)
async def test_a_control_character_in_the_url_is_refused_naming_where(
    client: httpx.AsyncClient, url: str, field: str
) -> None:
    problem = assert_problem(await client.get(url, headers=OPERATOR), 422, field)
    assert field_of(problem) == [field]


async def test_a_channel_report_that_is_not_an_object_is_named_body(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post(
        "/api/v1/channels/sms/reports",
        content="你好".encode(),
        headers={**GATEWAY, "Content-Type": "text/plain"},
    )
    assert field_of(assert_problem(r, 422, "body")) == ["body"]


def test_not_ready_and_too_many_requests_say_when_to_come_back() -> None:
    request = Request({"type": "http", "method": "GET", "path": "/readyz", "headers": []})
    not_ready = problem_response(request, 503, "Not ready", "unreachable: bus")
    assert not_ready.headers["Retry-After"] == "5"
    limited = problem_response(request, 429, "Too many requests", "wait", retry_after=42)
    assert limited.headers["Retry-After"] == "42"
