"""analytics learns the directory only from routing's events: new areas and units, their
classes, and changes to them; a rebuild learns the same from the stored events."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from analytics.models import Area, Unit
from analytics.rebuild import rebuild
from tests.analytics.streams import (
    area_changed,
    at,
    deliver,
    dispatched,
    handled_ticket,
    received,
    unit_changed,
)
from tests.support import SUPERVISOR

NEW_COMMUNITY = "BJ010199"  # under 长安街道 (BJ0101), not in the demo city


async def rates(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    r = await client.get(
        "/api/v1/analytics/rates",
        params={"from": "2026-11-01", "to": "2026-11-30", **params},
        headers=SUPERVISOR,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def ranked(client: httpx.AsyncClient, unit_class: str) -> list[str]:
    r = await client.get(
        "/api/v1/analytics/rankings",
        params={"month": "2026-11", "unit_class": unit_class},
        headers=SUPERVISOR,
    )
    assert r.status_code == 200, r.text
    return [u["unit_id"] for u in r.json()["units"]]


async def test_a_community_created_through_events_shows_its_name_and_street(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await deliver(app, [area_changed(NEW_COMMUNITY, "新建社区", "community", "BJ0101")])
    await deliver(app, handled_ticket("N1", "U-BJ0101", at(11, 23, 9), area=NEW_COMMUNITY))
    body = await rates(client, group_by="area,street", area=NEW_COMMUNITY)
    assert body["counts"]["received"] == 1
    (group,) = body["groups"]
    assert group["key"] == {
        "area_code": NEW_COMMUNITY,
        "area_name": "新建社区",
        "street": "BJ0101",
        "street_name": "长安街道",
    }
    # Renamed and moved: the whole state replaces the old one.
    await deliver(
        app,
        [area_changed(NEW_COMMUNITY, "新城社区", "community", "BJ0102", change="changed")],
    )
    (group,) = (await rates(client, group_by="area,street", area=NEW_COMMUNITY))["groups"]
    assert (group["key"]["area_name"], group["key"]["street"]) == ("新城社区", "BJ0102")


async def test_a_units_class_comes_from_the_events_and_a_change_applies(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    # A new enterprise, announced by routing, handles a ticket.
    await deliver(app, [unit_changed("U-NEW", "滨江燃气集团", "enterprise", "BJ01")])
    await deliver(app, handled_ticket("C1", "U-NEW", at(11, 23, 9)))
    assert "U-NEW" in await ranked(client, "enterprise")
    # routing reclassifies it: the changed class applies.
    await deliver(
        app,
        [
            unit_changed(
                "U-NEW",
                "滨江燃气集团",
                "enterprise",
                "BJ01",
                unit_class="department",
                change="changed",
                version=2,
            )
        ],
    )
    assert "U-NEW" in await ranked(client, "department")
    assert "U-NEW" not in await ranked(client, "enterprise")
    # A dispatch states the unit's class as routing decided it then: it wins over the older
    # directory class; a dispatch from before classes travelled (None) leaves it alone.
    await deliver(app, dispatched("C2", "C2-a", "U-NEW", at(11, 24, 9), unit_class="community"))
    assert "U-NEW" in await ranked(client, "community")
    await deliver(app, dispatched("C3", "C3-a", "U-NEW", at(11, 24, 10)))
    assert "U-NEW" in await ranked(client, "community")


async def test_a_unit_only_dispatched_to_has_its_name_and_class_from_the_dispatch(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await deliver(
        app,
        [
            *received("D1", at(11, 23, 9)),
            *dispatched(
                "D1", "D1-a", "U-LATE", at(11, 23, 9), unit_name="晚到单位", unit_class="street"
            ),
        ],
    )
    body = await rates(client, group_by="unit,unit_class", unit_id="U-LATE")
    (group,) = body["groups"]
    assert group["key"] == {"unit_id": "U-LATE", "unit_name": "晚到单位", "unit_class": "street"}


async def directory_rows(app: FastAPI) -> tuple[list[Any], list[Any]]:
    async with app.state.runtimes["analytics"].sessionmaker() as session:
        areas = (await session.execute(select(Area.__table__).order_by(Area.code))).all()
        units = (await session.execute(select(Unit.__table__).order_by(Unit.unit_id))).all()
    return [tuple(a) for a in areas], [tuple(u) for u in units]


async def test_a_rebuild_learns_the_same_directory_from_the_stored_events(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await deliver(
        app,
        [
            area_changed(NEW_COMMUNITY, "新建社区", "community", "BJ0101"),
            unit_changed("U-NEW", "滨江燃气集团", "enterprise", "BJ01"),
        ],
    )
    await deliver(app, dispatched("R1", "R1-a", "U-NEW", at(11, 23, 9), unit_class="street"))
    await deliver(
        app,
        [unit_changed("U-NEW", "滨江燃气公司", "enterprise", "BJ01", change="changed")],
    )
    await deliver(app, dispatched("R2", "R2-a", "U-NEW", at(11, 23, 10)))  # no class
    await deliver(app, [area_changed("BJ0203", "旧街道", "street", "BJ02", change="retired")])
    before = await directory_rows(app)
    units = {u[0]: u for u in before[1]}
    assert units["U-NEW"][1:3] == ("U-NEW", "enterprise")  # named by R2, class by the change
    await rebuild(app.state.runtimes["analytics"].sessionmaker)
    assert await directory_rows(app) == before
    # The cached directory saw the rebuild: the area is still known to the filters.
    assert (await rates(client, area=NEW_COMMUNITY))["counts"]["received"] == 0
