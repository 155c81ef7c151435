"""The demo city 滨江市: areas, units, a responsibility catalogue and sample tickets.

On first start routing loads the directory (areas, units, catalogue) and announces it, and
intake learns its gazetteer from those announcements like any other change of the directory;
intake loads its own taxonomy. The sample tickets are then posted through intake's HTTP API like a gateway
would, and about two thirds are played forward (signed, contacted, replied, called back) so
that every service and the three rates have something to show.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import Any

import httpx
from fastapi import FastAPI

from shared.auth import Principal, Role, issue_token
from shared.clock import SystemClock
from shared.runtime import ServiceRuntime

log = logging.getLogger("services.demo")

DEMO_PRINCIPALS = {
    "gateway": Principal("gateway-12345", Role.GATEWAY),
    "operator": Principal("operator-01", Role.OPERATOR),
    "supervisor": Principal("supervisor-01", Role.SUPERVISOR),
    "service": Principal("service-internal", Role.SERVICE),
    "unit U-BJ0101 (长安街道办事处)": Principal("unit-U-BJ0101", Role.UNIT, "U-BJ0101"),
    "unit U-BJ01-CG (江北区城管委)": Principal("unit-U-BJ01-CG", Role.UNIT, "U-BJ01-CG"),
}


@cache
def city() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        files("services").joinpath("demo_city.json").read_text("utf-8")
    )
    return data


# The demo's accounts (one per person, one per demo unit) and clients share one password: the
# embedded demo only (it starts with development secrets and says so).
DEMO_PASSWORD = "hotline-demo-2026"
DEMO_CLIENT_SECRET = "hotline-demo-client-secret-2026"
DEMO_ACCOUNTS = (
    ("admin", "管理员", "admin"),
    ("operator-01", "话务员 01", "operator"),
    ("operator-02", "回访员 02", "callback_operator"),
    ("dispatcher-01", "派单员 01", "dispatcher"),
    ("supervisor-01", "督办员 01", "supervisor"),
    ("leader-01", "领导 01", "leader"),
)
DEMO_CLIENTS = (
    ("gateway-12345", "12345 channel gateway", "gateway"),
    ("service-internal", "platform services", "service"),
)


def demo_unit_username(unit_id: str) -> str:
    return f"unit-{unit_id}"


def tokens() -> dict[str, str]:
    return {label: issue_token(p) for label, p in DEMO_PRINCIPALS.items()}


def login_help(base: str) -> str:
    """How to log in to the demo (printed at start-up)."""
    units = city()["units"]
    example = demo_unit_username(units[0]["id"]) if units else "unit-<unit id>"
    people = ", ".join(username for username, _name, _kind in DEMO_ACCOUNTS)
    return (
        f"  demo logins (password {DEMO_PASSWORD}): {people},\n"
        f"    and one per demo unit: unit-<unit id>, e.g. {example} ({len(units)} units)\n"
        f"  demo clients (client_credentials, secret {DEMO_CLIENT_SECRET}): "
        f"{', '.join(c for c, _n, _r in DEMO_CLIENTS)}\n"
        f"  log in:  curl -s {base}/api/v1/auth/token -d grant_type=password "
        f"-d username=operator-01 -d password={DEMO_PASSWORD}"
    )


async def load_accounts(runtimes: Mapping[str, ServiceRuntime]) -> int:
    """accounts creates the demo's accounts (people, every demo unit) and clients, once."""
    if "accounts" not in runtimes:
        return 0
    from accounts import service
    from accounts.domain import Kind
    from accounts.models import Account, Client

    runtime = runtimes["accounts"]
    now = SystemClock().now()  # credentials live in real time (accounts.router.wall_time)
    wanted = [*DEMO_ACCOUNTS]
    wanted += [(demo_unit_username(u["id"]), u["name"], "unit") for u in city()["units"]]
    created = 0
    async with runtime.sessionmaker() as session, session.begin():
        for username, name, kind in wanted:
            if await session.get(Account, username):
                continue
            await service.create_account(
                session,
                username=username,
                display_name=name,
                kind=Kind(kind),
                unit_id=username.removeprefix("unit-") if kind == "unit" else None,
                password=DEMO_PASSWORD,
                by="demo",
                now=now,
                check_unit=False,  # the demo's own units; routing announces them meanwhile
            )
            created += 1
        for client_id, name, role in DEMO_CLIENTS:
            if not await session.get(Client, client_id):
                await service.create_client(
                    session,
                    client_id=client_id,
                    name=name,
                    role=Role(role),
                    secret=DEMO_CLIENT_SECRET,
                    by="demo",
                    now=now,
                )
    if created:
        log.info("demo: %d accounts created (password %s)", created, DEMO_PASSWORD)
    return created


def unit_token(unit_id: str) -> str:
    return issue_token(Principal(f"unit-{unit_id}", Role.UNIT, unit_id))


async def load_directory(runtimes: Mapping[str, ServiceRuntime], timeout: float = 60.0) -> None:
    """Each service loads its own part of the city, through its own service functions: routing
    the directory (announced as events), intake its taxonomy. With both in this process and the
    bus running, wait until intake has learned routing's areas, so reports resolve at once."""
    data = city()
    if "intake" in runtimes:
        from intake import taxonomy

        async with runtimes["intake"].sessionmaker() as session, session.begin():
            await taxonomy.load_taxonomy(session, data["taxonomy"])
    if "routing" in runtimes:
        from routing import directory

        async with runtimes["routing"].sessionmaker() as session, session.begin():
            await directory.load_directory(
                session, areas=data["areas"], units=data["units"], rules=data["rules"]
            )
    if {"intake", "routing"} <= set(runtimes):
        from intake import directory as intake_directory

        async def learned() -> bool:
            async with runtimes["intake"].sessionmaker() as session:
                return await intake_directory.area_count(session) >= len(data["areas"])

        if not await _eventually(learned, timeout):
            raise RuntimeError(
                f"intake did not learn routing's {len(data['areas'])} areas within {timeout:g} s: "
                "is the bus running and the outbox relay publishing?"
            )


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _eventually(probe: Any, timeout: float = 60.0) -> Any:
    """Poll `probe` until it returns something truthy (events flow asynchronously)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await probe()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.2)


# A realistic spread of callback verdicts for played tickets.
VERDICTS = [
    {"contacted_by_unit": True, "solved": "solved", "satisfaction": "satisfied"},
    {"contacted_by_unit": True, "solved": "solved", "satisfaction": "satisfied"},
    {"contacted_by_unit": True, "solved": "partly_solved", "satisfaction": "basically_satisfied"},
    {"contacted_by_unit": True, "solved": "solved", "satisfaction": "satisfied"},
    {"contacted_by_unit": False, "solved": "unsolved", "satisfaction": "dissatisfied"},
]


async def play(
    intake: httpx.AsyncClient, routing: httpx.AsyncClient, callback: httpx.AsyncClient
) -> int:
    """Post the sample tickets (once) and play two thirds of them through to the callback."""
    operator = _auth(issue_token(DEMO_PRINCIPALS["operator"]))
    existing = await intake.get("/api/v1/tickets", params={"limit": 1}, headers=operator)
    existing.raise_for_status()
    if existing.json():
        return 0
    gateway = _auth(issue_token(DEMO_PRINCIPALS["gateway"]))
    ids = []
    for sample in city()["tickets"]:
        response = await intake.post("/api/v1/tickets", json=sample, headers=gateway)
        response.raise_for_status()
        ids.append(response.json()["id"])
    log.info("demo: posted %d sample tickets", len(ids))

    played = 0
    for i, ticket_id in enumerate(ids):
        if i % 3 == 2:
            continue  # left open, so worklists have something to do

        async def assignments(ticket_id: str = ticket_id) -> Any:
            r = await routing.get("/api/v1/assignments", headers=operator)
            mine = [a for a in r.json() if a["ticket_id"] == ticket_id]
            return mine if any(a["role"] == "lead" for a in mine) else None

        # Assisting units reply to the lead first; the lead's reply closes the handling.
        for assignment in sorted(
            await _eventually(assignments) or [], key=lambda a: a["role"] == "lead"
        ):
            unit = _auth(unit_token(assignment["unit_id"]))
            base = f"/api/v1/assignments/{assignment['id']}"
            for step in ("sign", "contact"):
                (await routing.post(f"{base}/{step}", headers=unit)).raise_for_status()
            (
                await routing.post(
                    f"{base}/reply",
                    headers=unit,
                    json={
                        "outcome": "solved",
                        "explanation": "已现场核实并处理完毕，已电话告知诉求人处理结果。",
                    },
                )
            ).raise_for_status()

        async def due_callback(ticket_id: str = ticket_id) -> Any:
            r = await callback.get(
                "/api/v1/callbacks", params={"ticket_id": ticket_id}, headers=operator
            )
            return r.json()

        callbacks = await _eventually(due_callback)
        if callbacks:
            await callback.post(
                f"/api/v1/callbacks/{callbacks[0]['id']}/result",
                headers=operator,
                json=VERDICTS[played % len(VERDICTS)],
            )
            played += 1
    log.info("demo: played %d tickets through to the callback", played)
    return played


async def play_in_process(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://embedded") as client:
        try:
            await play(client, client, client)
        except Exception:
            log.exception("demo: playing the sample tickets failed")
