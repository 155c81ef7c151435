"""Areas and units (CRUD and CSV/Excel import, versioned) and the catalogue (versions with
effective dates, import with conflicts named, explanation). Bad input changes nothing."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import httpx
from openpyxl import Workbook

from shared.clock import FrozenClock
from tests.routing.helpers import ADMIN, lead_of, post, settled, unit
from tests.support import OPERATOR


def xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv(rows: list[str]) -> bytes:
    return ("\ufeff" + "\n".join(rows) + "\n").encode()


async def versions(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    return list((await client.get("/api/v1/directory/versions", headers=ADMIN)).json())


async def test_areas_and_units_are_created_changed_and_deactivated(
    client: httpx.AsyncClient,
) -> None:
    before = len(await versions(client))
    street = {"code": "BJ0104", "name": "江北区滨河街道", "level": "street", "parent": "BJ01"}
    r = await client.post("/api/v1/areas", headers=ADMIN, json=street)
    assert r.status_code == 201, r.text
    assert r.json()["version"] == before + 1
    assert (await client.post("/api/v1/areas", headers=ADMIN, json=street)).status_code == 409
    for bad, field in [
        ({**street, "code": "BJ0105", "parent": "NOPE"}, "parent"),
        ({**street, "code": "BJ0105", "level": "district", "parent": "BJ0101"}, "parent"),
        ({**street, "code": "BJ0105", "level": "borough"}, "level"),
        ({**street, "code": "BJ 0105"}, "code"),
    ]:
        r = await client.post("/api/v1/areas", headers=ADMIN, json=bad)
        assert r.status_code == 422 and field in r.json()["detail"], r.text
    assert (await client.get("/api/v1/areas/BJ0105", headers=ADMIN)).status_code == 404

    office = {
        "id": "U-BJ0104",
        "name": "江北区滨河街道办事处",
        "kind": "street_office",
        "area_code": "BJ0104",
    }
    assert (
        await client.post("/api/v1/units", headers=ADMIN, json={**office, "area_code": "NOPE"})
    ).status_code == 422
    assert (
        await client.post("/api/v1/units", headers=ADMIN, json={**office, "kind": "club"})
    ).status_code == 422
    r = await client.post("/api/v1/units", headers=ADMIN, json=office)
    assert r.status_code == 201, r.text
    r = await client.patch("/api/v1/units/U-BJ0104", headers=ADMIN, json={"name": "滨河街道办事处"})
    assert (r.json()["name"], r.json()["version"]) == ("滨河街道办事处", before + 3)
    assert [
        u["id"]
        for u in (
            await client.get("/api/v1/units", params={"area": "BJ0104"}, headers=OPERATOR)
        ).json()
    ] == ["U-BJ0104"]

    in_use = await client.delete("/api/v1/areas/BJ0104", headers=ADMIN)
    assert in_use.status_code == 409 and "1 active unit" in in_use.json()["detail"]
    named = await client.delete("/api/v1/units/U-BJ01-CG", headers=ADMIN)
    assert named.status_code == 409 and "R005" in named.json()["detail"]
    assert (await client.delete("/api/v1/units/U-BJ0104", headers=ADMIN)).json()["active"] is False
    assert (await client.delete("/api/v1/areas/BJ0104", headers=ADMIN)).json()["active"] is False
    assert len(await versions(client)) == before + 5


async def test_directory_import_from_excel_and_csv(client: httpx.AsyncClient) -> None:
    book = xlsx(
        {
            "areas": [
                ["code", "name", "level", "parent"],
                ["BJ04", "东湖区", "district", "BJ"],
                ["BJ0401", "东湖街道", "street", "BJ04"],
                ["BJ040101", "湖畔社区", "community", "BJ0401"],
            ],
            "units": [
                ["id", "name", "kind", "area"],
                ["U-BJ04", "东湖区人民政府", "district_government", "BJ04"],
                ["U-BJ0401", "东湖街道办事处", "street_office", "BJ0401"],
            ],
        }
    )
    files = {
        "file": (
            "directory.xlsx",
            book,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    }
    r = await client.post("/api/v1/directory/import", headers=ADMIN, files=files)
    assert r.status_code == 201, r.text
    assert (r.json()["areas"], r.json()["units"]) == (3, 2)
    assert (await client.get("/api/v1/units/U-BJ0401", headers=OPERATOR)).json()[
        "version"
    ] == r.json()["version"]

    units_csv = csv(["id,name,kind,area", "U-BJ040101,湖畔社区居委会,community,BJ040101"])
    r = await client.post(
        "/api/v1/directory/import",
        headers=ADMIN,
        data={"table": "units"},
        files={"file": ("units.csv", units_csv, "text/csv")},
    )
    assert r.status_code == 201 and r.json()["units"] == 1

    # With no rule and no street office for 首接负责 (a city-wide address), the queue.
    t = await settled(client, await post(client, address="滨江市某处", category="其他/未分类"))
    assert t["status"] == "queued" and "no street office" in t["queued_reason"]


async def test_a_directory_import_with_problems_names_them_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    before = await versions(client)
    book = xlsx(
        {
            "areas": [
                ["code", "name", "level", "parent"],
                ["BJ05", "西山区", "district", "BJ"],
                ["BJ0501", "西山街道", "street", "NOWHERE"],
                ["BJ0502", "某街道", "planet", "BJ05"],
            ],
            "units": [
                ["id", "name", "kind", "area"],
                ["U-BJ05", "西山区人民政府", "district_government", "BJ99"],
                ["U-BJ05", "重复", "enterprise", "BJ05"],
            ],
        }
    )
    r = await client.post(
        "/api/v1/directory/import",
        headers=ADMIN,
        files={"file": ("d.xlsx", book, "application/octet-stream")},
    )
    assert r.status_code == 422, r.text
    problems = r.json()["problems"]
    assert "areas row 3: unknown parent area NOWHERE" in problems
    assert any(p.startswith("areas row 4: level 'planet'") for p in problems)
    assert "units row 2: unknown area BJ99" in problems
    assert "units row 3: unit U-BJ05 appears twice" in problems
    assert await versions(client) == before
    assert (await client.get("/api/v1/areas/BJ05", headers=ADMIN)).status_code == 404
    for name, content in [
        ("d.txt", b"x"),
        ("d.xlsx", b"not a zip"),
        ("d.csv", "code\n".encode("gbk") + "区".encode("gbk")),
    ]:
        r = await client.post(
            "/api/v1/directory/import",
            headers=ADMIN,
            files={"file": (name, content, "application/octet-stream")},
        )
        assert r.status_code == 422 and "file" in r.json()["detail"], r.text


CATALOGUE_HEADER = "id,category,area,keywords,lead,assist,mode"


async def test_catalogue_import_with_conflicts_names_the_rows_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    rows = [
        CATALOGUE_HEADER,
        "C1,城市管理/市容环境,BJ01,,U-BJ01-CG,U-BJ01,",
        "C2,城市管理/市容环境,BJ01,,U-BJ0101,,",
        "C3,教育,,,U-GHOST,,",
        "C4,交通出行,NOWHERE,,role:street_office,,sideways",
    ]
    r = await client.post(
        "/api/v1/catalogue/import",
        headers=ADMIN,
        files={"file": ("rules.csv", csv(rows), "text/csv")},
    )
    assert r.status_code == 422, r.text
    problems = r.json()["problems"]
    assert any(p.startswith("row 2 (C1) and row 3 (C2) conflict") for p in problems), problems
    assert "row 4 (C3): unknown or inactive unit U-GHOST" in problems
    assert "row 5 (C4): unknown area NOWHERE" in problems
    assert any(p.startswith("row 5 (C4): unknown mode sideways") for p in problems)
    assert len((await client.get("/api/v1/catalogue/versions", headers=ADMIN)).json()) == 1
    assert (
        await client.post(
            "/api/v1/catalogue/import",
            headers=OPERATOR,
            files={"file": ("rules.csv", csv(rows[:2]), "text/csv")},
        )
    ).status_code == 403


async def test_a_catalogue_version_takes_effect_on_its_date_and_dispatch_records_it(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    book = xlsx(
        {
            "rules": [
                ["id", "category", "area", "keywords", "lead", "assist", "mode"],
                ["V1", "城市管理", None, None, "U-BJ-CG", None, None],
                [
                    "V2",
                    "城市管理/市容环境/占道经营",
                    "BJ0101",
                    "早市",
                    "role:street_office",
                    "U-BJ01-CG",
                    None,
                ],
            ]
        }
    )
    starts = (clock.now() + timedelta(days=1)).isoformat()
    r = await client.post(
        "/api/v1/catalogue/import",
        headers=ADMIN,
        data={"effective_from": starts, "note": "2027版职责清单"},
        files={"file": ("rules.xlsx", book, "application/octet-stream")},
    )
    assert r.status_code == 201, r.text
    assert (r.json()["version"], r.json()["rule_count"], r.json()["in_force"]) == (2, 2, False)

    before = lead_of(await settled(client, await post(client), 2))
    assert (before["rule_id"], before["catalogue_version"]) == ("R005", 1)
    clock.advance(timedelta(days=1))
    listed = (await client.get("/api/v1/catalogue/versions", headers=OPERATOR)).json()
    assert [v["in_force"] for v in listed] == [False, True]
    after = lead_of(await settled(client, await post(client), 2))
    assert (after["unit_id"], after["rule_id"], after["catalogue_version"]) == ("U-BJ0101", "V2", 2)
    old = (
        await client.get("/api/v1/catalogue/rules", params={"version": 1}, headers=OPERATOR)
    ).json()
    assert len(old) == 29
    assert (
        await client.get("/api/v1/catalogue/rules", params={"version": 9}, headers=OPERATOR)
    ).status_code == 404
    naive = await client.post(
        "/api/v1/catalogue/import",
        headers=ADMIN,
        data={"effective_from": "2027-01-01T00:00:00"},
        files={"file": ("rules.xlsx", book, "application/octet-stream")},
    )
    assert naive.status_code == 422 and "effective_from" in naive.json()["detail"]


async def test_the_catalogue_explains_its_choice(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/catalogue/explain",
        headers=OPERATOR,
        json={
            "category": "城市管理/市容环境/占道经营",
            "area_code": "BJ010101",
            "text": "早市摊贩占道",
        },
    )
    body = r.json()
    assert (
        body["lead_unit_id"],
        body["assist_unit_ids"],
        body["rule_id"],
        body["catalogue_version"],
    ) == ("U-BJ01-CG", ["U-BJ0101"], "R005", 1)
    assert "category 城市管理/市容环境/占道经营 in area BJ01, keywords 早市、摊贩" in body["reason"]
    assert [c["rule"]["id"] for c in body["candidates"]] == ["R005", "R002", "R001"]
    assert body["candidates"][0]["specificity"] == [3, 2, 2]  # depth, area rank, keywords
    assert (
        await client.post(
            "/api/v1/catalogue/explain",
            headers=OPERATOR,
            json={"category": "教育", "area_code": "NOPE"},
        )
    ).status_code == 422
    assert (
        await client.post(
            "/api/v1/catalogue/explain", headers=unit("U-BJ0101"), json={"category": "教育"}
        )
    ).status_code == 403


async def test_a_catalogue_posted_as_json_is_checked_the_same_way(
    client: httpx.AsyncClient,
) -> None:
    rule: dict[str, Any] = {
        "id": "J1",
        "category": "教育",
        "area": None,
        "keywords": [],
        "lead": "U-BJ-JW",
        "assist": [],
    }
    r = await client.post(
        "/api/v1/catalogue/versions", headers=ADMIN, json={"rules": [rule, {**rule, "id": "J2"}]}
    )
    assert r.status_code == 422 and "J1" in r.json()["detail"] and "J2" in r.json()["detail"]
    r = await client.post("/api/v1/catalogue/versions", headers=ADMIN, json={"rules": []})
    assert r.status_code == 422 and "rules" in r.json()["detail"]
    assert len((await client.get("/api/v1/catalogue/versions", headers=ADMIN)).json()) == 1
