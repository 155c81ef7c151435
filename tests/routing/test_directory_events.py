"""routing owns the directory and announces every change of it: each area and unit created,
changed or retired through the API, an import or the installation load is one event with the
row's whole state and the unit's class; a refused change announces nothing."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from routing import directory
from routing.models import DirectoryVersion
from services import demo
from shared.events.routing import DIRECTORY_KEY, AreaChanged, TicketDispatched, UnitChanged
from tests.routing.helpers import ADMIN, events, post, wait_events
from tests.routing.test_directory_and_catalogue import csv
from tests.support import OPERATOR

# Written out here rather than read from routing.domain, so a changed rule fails this test.
CLASS_OF_KIND = {
    "city_department": "department",
    "district_department": "department",
    "district_government": "district",
    "street_office": "street",
    "community": "community",
    "enterprise": "enterprise",
}


async def announced_areas(app: FastAPI) -> list[AreaChanged]:
    found = [e.data() for e in await events(app, DIRECTORY_KEY, "directory.area_changed")]
    return [a for a in found if isinstance(a, AreaChanged)]


async def announced_units(app: FastAPI) -> list[UnitChanged]:
    found = [e.data() for e in await events(app, DIRECTORY_KEY, "directory.unit_changed")]
    return [u for u in found if isinstance(u, UnitChanged)]


async def test_the_installation_load_announces_each_area_and_unit_once(app: FastAPI) -> None:
    city = demo.city()
    await wait_events(app, DIRECTORY_KEY, "directory.area_changed", len(city["areas"]))
    await wait_events(app, DIRECTORY_KEY, "directory.unit_changed", len(city["units"]))
    areas, units = await announced_areas(app), await announced_units(app)
    assert {a.code for a in areas} == {a["code"] for a in city["areas"]}
    by_id = {u.unit_id: u for u in units}
    assert by_id["U-BJ01-CG"].unit_class == "department"  # 江北区城市管理委员会: a department
    assert by_id["U-BJ01"].unit_class == "district"
    assert by_id["U-BJ0101"].unit_class == "street"
    aliases = {a.code: a.aliases for a in areas}
    assert aliases["BJ01"] == ("江北",)

    async with app.state.runtimes["routing"].sessionmaker() as session, session.begin():
        await directory.load_directory(
            session, areas=city["areas"], units=city["units"], rules=city["rules"]
        )
        assert await session.get(DirectoryVersion, 2) is None
    await demo.load_directory(app.state.runtimes)  # loading again announces nothing
    assert len(await announced_areas(app)) == len(city["areas"])
    assert len(await announced_units(app)) == len(city["units"])


async def test_api_changes_are_announced_with_the_whole_state(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    box = [[120.0, 30.0], [120.1, 30.0], [120.1, 30.1]]
    street = {
        "code": "BJ0104",
        "name": "滨河街道",
        "level": "street",
        "parent": "BJ01",
        "aliases": ["滨河"],
        "boundary": box,
    }
    for bad, field in [
        ({**street, "boundary": [[120.0, 30.0], [120.1, 91.0], [120.1, 30.1]]}, "boundary"),
        ({**street, "boundary": [[120.0, 30.0], [120.1, 30.0]]}, "boundary"),
        ({**street, "aliases": [""]}, "aliases"),
    ]:
        r = await client.post("/api/v1/areas", json=bad, headers=ADMIN)
        assert r.status_code == 422 and field in r.json()["detail"], r.text
    r = await client.post("/api/v1/areas", json=street, headers=ADMIN)
    assert r.status_code == 201, r.text
    assert r.json()["aliases"] == ["滨河"] and r.json()["boundary"] == box
    office = {
        "id": "U-BJ0104",
        "name": "滨河街道办事处",
        "kind": "street_office",
        "area_code": "BJ0104",
    }
    assert (await client.post("/api/v1/units", json=office, headers=ADMIN)).status_code == 201
    r = await client.patch("/api/v1/areas/BJ0104", json={"boundary": None}, headers=ADMIN)
    assert r.status_code == 200 and r.json()["boundary"] is None
    r = await client.patch("/api/v1/units/U-BJ0104", json={"name": "滨河街道办"}, headers=ADMIN)
    assert r.status_code == 200 and r.json()["unit_class"] == "street"
    assert (await client.delete("/api/v1/units/U-BJ0104", headers=ADMIN)).status_code == 200
    assert (await client.delete("/api/v1/areas/BJ0104", headers=ADMIN)).status_code == 200

    await wait_events(app, DIRECTORY_KEY, "directory.unit_changed", len(demo.city()["units"]) + 3)
    areas = [a for a in await announced_areas(app) if a.code == "BJ0104"]
    assert [(a.change, a.boundary is not None, a.aliases) for a in areas] == [
        ("created", True, ("滨河",)),
        ("changed", False, ("滨河",)),
        ("retired", False, ("滨河",)),
    ]
    assert areas[0].boundary == [tuple(p) for p in box]
    units = [u for u in await announced_units(app) if u.unit_id == "U-BJ0104"]
    assert [(u.change, u.unit_name, u.unit_class) for u in units] == [
        ("created", "滨河街道办事处", "street"),
        ("changed", "滨河街道办", "street"),
        ("retired", "滨河街道办", "street"),
    ]
    versions = [u.directory_version for u in units]
    assert versions == sorted(versions) and len(set(versions)) == 3


async def test_an_import_announces_what_it_creates_and_changes(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    rows = ["code,name,level,parent,aliases", "BJ0105,江北区新城街道,street,BJ01,新城|新城区"]
    r = await client.post(
        "/api/v1/directory/import",
        files={"file": ("areas.csv", csv(rows), "text/csv")},
        data={"table": "areas"},
        headers=ADMIN,
    )
    assert r.status_code == 201, r.text
    renamed = ["code,name,level,parent", "BJ0105,江北区新城街道(新),street,BJ01"]
    r = await client.post(
        "/api/v1/directory/import",
        files={"file": ("areas.csv", csv(renamed), "text/csv")},
        data={"table": "areas"},
        headers=ADMIN,
    )
    assert r.status_code == 201, r.text
    await wait_events(app, DIRECTORY_KEY, "directory.area_changed", len(demo.city()["areas"]) + 2)
    mine = [a for a in await announced_areas(app) if a.code == "BJ0105"]
    assert [(a.change, a.area_name, a.aliases) for a in mine] == [
        ("created", "江北区新城街道", ("新城", "新城区")),
        ("changed", "江北区新城街道(新)", ("新城", "新城区")),  # no aliases column: kept
    ]


async def test_a_dispatch_carries_the_units_class(app: FastAPI, client: httpx.AsyncClient) -> None:
    ticket_id = await post(client)
    dispatched = await wait_events(app, ticket_id, "ticket.dispatched")
    data = dispatched[0].data()
    assert isinstance(data, TicketDispatched)
    kinds = {u["id"]: u["kind"] for u in demo.city()["units"]}
    assert data.unit_class == CLASS_OF_KIND[kinds[data.unit_id]]


async def test_the_whole_directory_is_announced_again_on_request(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    city = demo.city()
    await wait_events(app, DIRECTORY_KEY, "directory.unit_changed", len(city["units"]))
    spare = {
        "id": "U-SPARE",
        "name": "长安街道城管执法队",
        "kind": "street_office",
        "area_code": "BJ0101",
    }
    assert (await client.post("/api/v1/units", json=spare, headers=ADMIN)).status_code == 201
    assert (await client.delete("/api/v1/units/U-SPARE", headers=ADMIN)).status_code == 200
    denied = await client.post("/api/v1/directory/announce", headers=OPERATOR)
    assert denied.status_code == 403
    r = await client.post("/api/v1/directory/announce", headers=ADMIN)
    assert r.status_code == 202, r.text
    everyone = len(city["units"]) + 1
    assert r.json() == {"areas": len(city["areas"]), "units": everyone}
    await wait_events(app, DIRECTORY_KEY, "directory.unit_changed", 2 * everyone + 1)
    units = (await announced_units(app))[-everyone:]
    assert {u.unit_id for u in units} == {u["id"] for u in city["units"]} | {"U-SPARE"}
    assert {u.change for u in units if u.unit_id == "U-SPARE"} == {"retired"}
    assert {u.change for u in units if u.unit_id != "U-SPARE"} == {"changed"}
    areas = (await announced_areas(app))[-len(city["areas"]) :]
    assert {a.code for a in areas} == {a["code"] for a in city["areas"]}
