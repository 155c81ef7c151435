"""The directory's boundaries as GeoJSON (目录地图): what the big screen's map draws."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.routing.helpers import ADMIN, unit
from tests.support import OPERATOR

DEMO_CITY = json.loads(
    (Path(__file__).resolve().parents[2] / "services" / "demo_city.json").read_text("utf-8")
)


async def test_the_map_is_every_bounded_area_as_closed_geojson_rings(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/api/v1/directory/map", headers=OPERATOR)
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert body["type"] == "FeatureCollection"
    drawn = {f["id"]: f for f in body["features"]}
    wanted = {a["code"]: a for a in DEMO_CITY["areas"] if a.get("boundary")}
    assert set(drawn) == set(wanted)
    assert {a["level"] for a in wanted.values()} >= {"district", "street"}
    for code, feature in drawn.items():
        ring = feature["geometry"]["coordinates"][0]
        assert feature["geometry"]["type"] == "Polygon"
        assert ring[0] == ring[-1], "GeoJSON rings are closed"
        assert ring[:-1] == wanted[code]["boundary"]
        assert feature["properties"]["name"] == wanted[code]["name"]


async def test_the_map_by_level_and_without_retired_or_unbounded_areas(
    client: httpx.AsyncClient,
) -> None:
    streets = (
        await client.get("/api/v1/directory/map", params={"level": "street"}, headers=OPERATOR)
    ).json()["features"]
    assert streets and {f["properties"]["level"] for f in streets} == {"street"}
    both = (
        await client.get(
            "/api/v1/directory/map",
            params=[("level", "district"), ("level", "street")],
            headers=OPERATOR,
        )
    ).json()["features"]
    assert len(both) == len(streets) + 3

    r = await client.patch("/api/v1/areas/BJ0301", json={"boundary": None}, headers=ADMIN)
    assert r.status_code == 200, r.text
    codes = {
        f["id"]
        for f in (await client.get("/api/v1/directory/map", headers=OPERATOR)).json()["features"]
    }
    assert "BJ0301" not in codes and "BJ0302" in codes


async def test_the_map_is_for_the_centre_and_its_levels_are_checked(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/api/v1/directory/map", headers=unit("U-BJ0101"))
    assert r.status_code == 403
    r = await client.get("/api/v1/directory/map", params={"level": "planet"}, headers=OPERATOR)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.level.0"
