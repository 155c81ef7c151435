"""intake tests: the demo city with its taxonomy loaded, and a few area boundaries (the demo
city has no coordinates), drawn in routing's directory and learned by intake from its events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from intake import directory, taxonomy
from services import demo
from tests.support import SUPERVISOR, eventually

# Hand-drawn boxes around two communities of 江北区长安街道 (lng, lat).
BOUNDARIES: list[dict[str, Any]] = [
    {
        "area_code": "BJ0101",
        "level": "street",
        "polygon": [[120.10, 30.20], [120.20, 30.20], [120.20, 30.30], [120.10, 30.30]],
    },
    {
        "area_code": "BJ010101",
        "level": "community",
        "polygon": [[120.10, 30.20], [120.15, 30.20], [120.15, 30.25], [120.10, 30.25]],
    },
    {
        "area_code": "BJ010102",
        "level": "community",
        "polygon": [[120.15, 30.25], [120.20, 30.25], [120.20, 30.30], [120.15, 30.30]],
    },
]


@pytest.fixture
async def intake_app(app: FastAPI, client: httpx.AsyncClient) -> AsyncIterator[FastAPI]:
    async with app.state.runtimes["intake"].sessionmaker() as session, session.begin():
        await taxonomy.load_taxonomy(session, demo.city()["taxonomy"])
    for item in BOUNDARIES:
        r = await client.patch(
            f"/api/v1/areas/{item['area_code']}",
            json={"boundary": item["polygon"]},
            headers=SUPERVISOR,
        )
        assert r.status_code == 200, r.text

    async def learned() -> bool:
        async with app.state.runtimes["intake"].sessionmaker() as session:
            places = (await directory.current(session)).gazetteer
            known = {b.area_code: b.ring for b in places.boundaries}
        return all(
            [tuple(p) for p in known.get(item["area_code"], ())]
            == [tuple(p) for p in item["polygon"]]
            for item in BOUNDARIES
        )

    await eventually(learned, what="intake to learn the boundaries from routing's events")
    yield app


@pytest.fixture
async def api(intake_app: FastAPI, client: httpx.AsyncClient) -> httpx.AsyncClient:
    return client
