"""What the accounts tests share: creating accounts through the API and logging in."""

from __future__ import annotations

from typing import Any

import httpx

from shared.auth import Role
from tests.support import bearer, eventually

ADMIN = bearer(Role.ADMIN, subject="test-admin")
PASSWORD = "correct horse battery"
PROBLEM = "application/problem+json"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["detail"]
    if status == 401:
        assert r.headers["www-authenticate"] == "Bearer"
    return body


async def create(
    client: httpx.AsyncClient,
    username: str,
    kind: str = "operator",
    unit_id: str | None = None,
    headers: dict[str, str] = ADMIN,
) -> dict[str, Any]:
    body = {"username": username, "display_name": username, "kind": kind, "password": PASSWORD}
    if unit_id:
        body["unit_id"] = unit_id

    async def attempt() -> dict[str, Any] | None:
        r = await client.post("/api/v1/accounts", json=body, headers=headers)
        if r.status_code == 422 and unit_id and "unit_id" in r.text:
            return None  # accounts has not learned routing's units yet
        assert r.status_code == 201, r.text
        return dict(r.json())

    return await eventually(attempt, what=f"account {username}")


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )


async def tokens(client: httpx.AsyncClient, username: str) -> dict[str, Any]:
    r = await login(client, username)
    assert r.status_code == 200, r.text
    return dict(r.json())
