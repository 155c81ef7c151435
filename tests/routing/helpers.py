"""What routing's tests share: posting tickets, waiting for dispatch, reading the bus."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from shared.auth import Role
from shared.bus import bus_log
from shared.events import Envelope
from tests.slice import Clients, post_complaint
from tests.support import SUPERVISOR, bearer, eventually

ADMIN = SUPERVISOR


def unit(unit_id: str) -> dict[str, str]:
    return bearer(Role.UNIT, unit_id)


async def post(client: httpx.AsyncClient, **changes: Any) -> str:
    c = Clients(client, client, client, client, client)
    return str((await post_complaint(c, **changes))["id"])


async def routed(client: httpx.AsyncClient, ticket_id: str) -> dict[str, Any]:
    r = await client.get(f"/api/v1/routing/tickets/{ticket_id}", headers=SUPERVISOR)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def settled(
    client: httpx.AsyncClient, ticket_id: str, count: int | None = None
) -> dict[str, Any]:
    """The ticket once routing has it: queued, or dispatched with `count` open assignments."""

    async def probe() -> dict[str, Any] | None:
        r = await client.get(f"/api/v1/routing/tickets/{ticket_id}", headers=SUPERVISOR)
        if r.status_code != 200:
            return None
        body = dict(r.json())
        if count is None:
            return body
        live = [a for a in body["assignments"] if a["status"] == "dispatched"]
        return body if len(live) >= count else None

    return await eventually(probe, what=f"routing of {ticket_id}")


def lead_of(ticket: dict[str, Any]) -> dict[str, Any]:
    return next(
        a
        for a in reversed(ticket["assignments"])
        if a["role"] == "lead" and a["status"] not in ("withdrawn", "returned", "forwarded")
    )


def assists_of(ticket: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in ticket["assignments"] if a["role"] == "assist"]


async def events(app: FastAPI, ticket_id: str, type_: str) -> list[Envelope]:
    """Events routing has published for the ticket (the relay runs at once in tests)."""

    async def probe() -> list[Envelope]:
        async with app.state.bus.engine.connect() as conn:
            bodies = (await conn.execute(select(bus_log.c.body))).scalars().all()
        return [
            e
            for e in map(Envelope.model_validate_json, bodies)
            if e.ticket_id == ticket_id and e.type == type_
        ]

    return await probe()


async def wait_events(app: FastAPI, ticket_id: str, type_: str, n: int = 1) -> list[Envelope]:
    async def probe() -> list[Envelope] | None:
        found = await events(app, ticket_id, type_)
        return found if len(found) >= n else None

    return await eventually(probe, what=f"{n} × {type_}")


async def step(
    client: httpx.AsyncClient, assignment: dict[str, Any], *actions: str
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for action in actions:
        r = await client.post(
            f"/api/v1/assignments/{assignment['id']}/{action}", headers=unit(assignment["unit_id"])
        )
        assert r.status_code == 200, r.text
        body = dict(r.json())
    return body


async def new_catalogue(
    client: httpx.AsyncClient, rules: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """A catalogue version: the rules in force now plus `rules` (replacing same ids)."""
    current = (await client.get("/api/v1/catalogue/rules", headers=ADMIN)).json()
    by_id = {
        r["id"]: {k: r[k] for k in ("id", "category", "area", "keywords", "lead", "assist", "mode")}
        for r in current
    }
    by_id.update({r["id"]: r for r in rules})
    r = await client.post(
        "/api/v1/catalogue/versions",
        headers=ADMIN,
        json={"rules": list(by_id.values()), **extra},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())
