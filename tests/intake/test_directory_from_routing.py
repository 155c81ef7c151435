"""intake's gazetteer is routing's directory as announced: an area created, renamed or retired
through routing's API changes how intake resolves reports, with no second place to write it."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from intake import directory
from tests.intake.test_channels_api import NATIVE, report
from tests.support import SUPERVISOR, eventually

# Inside 长安街道's box (tests/intake/conftest.py), clear of its two communities' boxes.
NEW_BOX = [[120.16, 30.21], [120.19, 30.21], [120.19, 30.24], [120.16, 30.24]]
INSIDE = {"longitude": 120.17, "latitude": 30.22}


async def names(app: FastAPI) -> dict[str, tuple[str, ...]]:
    async with app.state.runtimes["intake"].sessionmaker() as session:
        return {a.code: a.names for a in (await directory.current(session)).areas}


async def area_of(api: httpx.AsyncClient, report_id: str, location: dict[str, Any]) -> str:
    native = {**NATIVE["app"], "report_id": report_id, "location": location}
    r = await report(api, "app", native)
    assert r.status_code == 201, r.text
    return str(r.json()["ticket"]["area_code"])


async def test_an_area_made_in_routing_is_found_by_intake_and_leaves_it_when_retired(
    api: httpx.AsyncClient, intake_app: FastAPI
) -> None:
    community = {
        "code": "BJ010109",
        "name": "新河社区",
        "level": "community",
        "parent": "BJ0101",
        "aliases": ["新河小区"],
        "boundary": NEW_BOX,
    }
    r = await api.post("/api/v1/areas", json=community, headers=SUPERVISOR)
    assert r.status_code == 201, r.text

    async def learned() -> bool:
        return (await names(intake_app)).get("BJ010109") == ("新河社区", "新河小区")

    await eventually(learned, what="intake to learn 新河社区")
    assert await area_of(api, "N1", INSIDE) == "BJ010109"
    by_alias = {
        "address": "滨江市江北区长安街道新河小区3号楼",
        "longitude": 121.5,
        "latitude": 31.2,
    }
    assert await area_of(api, "N2", by_alias) == "BJ010109"

    r = await api.patch("/api/v1/areas/BJ010109", json={"name": "新河湾社区"}, headers=SUPERVISOR)
    assert r.status_code == 200, r.text

    async def renamed() -> bool:
        return (await names(intake_app)).get("BJ010109", ("",))[0] == "新河湾社区"

    await eventually(renamed, what="intake to learn the new name")

    r = await api.delete("/api/v1/areas/BJ010109", headers=SUPERVISOR)
    assert r.status_code == 200, r.text

    async def forgotten() -> bool:
        return "BJ010109" not in await names(intake_app)

    await eventually(forgotten, what="intake to drop the retired area")
    assert await area_of(api, "N3", INSIDE) == "BJ0101"  # the street's boundary still holds
