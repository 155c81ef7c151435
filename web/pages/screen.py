"""The big screen (数据大屏) for the centre's wall: today's intake by channel and by hour, the
city's districts and streets on a map coloured by volume or by satisfaction, live counts of
open, overdue and supervised tickets, top categories and the latest spike warnings.

The page is a shell; `screen.js` asks `/web/screen/data.json` again every `refresh` seconds
and redraws, and draws the map from `/web/screen/map.json` (the directory's GeoJSON) without
tiles. Every figure comes from the service that owns it, with the signed-in user's token."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from shared.clock import CHINA
from web import labels
from web.navigation import page
from web.pages.common import Services, Session, allowed, render

router = APIRouter()

RATE_DAYS = 30  # the map's satisfaction is over the last 30 days; volume is today's
MAP_LEVELS = ("district", "street")
TOP_CATEGORIES = 8


def _received(groups: list[dict[str, Any]], key: str) -> dict[str, int]:
    return {
        str(g["key"][key]): int(g["counts"].get("received", 0)) for g in groups if g["key"].get(key)
    }


def _satisfaction(groups: list[dict[str, Any]], key: str) -> dict[str, float | None]:
    return {
        str(g["key"][key]): g["satisfaction_rate"]["value"] for g in groups if g["key"].get(key)
    }


@router.get("/web/screen", response_class=HTMLResponse)
async def big_screen(
    request: Request,
    web: Session,
    refresh: Annotated[int, Query(ge=5, le=3600, description="seconds between redraws")] = 30,
) -> Response:
    allowed(web, page("screen").roles)
    return render(request, "screen.html", web, refresh=refresh)


@router.get("/web/screen/map.json")
async def screen_map(web: Session, api: Services) -> Response:
    """The districts' and streets' boundaries (routing's directory, GeoJSON)."""
    allowed(web, page("screen").roles)
    found = await api.get("/api/v1/directory/map", level=list(MAP_LEVELS))
    return JSONResponse(found, media_type="application/geo+json")


@router.get("/web/screen/data.json")
async def screen_data(web: Session, api: Services) -> Response:
    allowed(web, page("screen").roles)
    now = datetime.now(CHINA)
    today = now.date()
    day = {"from": today, "to": today}
    month = {"from": today - timedelta(days=RATE_DAYS - 1), "to": today}
    rates = "/api/v1/analytics/rates"
    (
        live,
        by_channel,
        by_category,
        district_today,
        street_today,
        district_month,
        street_month,
        overdue,
        cases,
        warnings,
    ) = await asyncio.gather(
        api.get("/api/v1/analytics/today", date=today),
        api.get(rates, group_by="channel", **day),
        api.get(rates, group_by="top_category", **day),
        api.get(rates, group_by="district", **day),
        api.get(rates, group_by="street", **day),
        api.get(rates, group_by="district", **month),
        api.get(rates, group_by="street", **month),
        api.get("/api/v1/sla/overdue"),
        api.get("/api/v1/sla/supervision"),
        api.get("/api/v1/analytics/warnings", period="week", date=today),
    )
    channels = _received(by_channel["groups"], "channel")
    categories = sorted(
        _received(by_category["groups"], "top_category").items(), key=lambda kv: (-kv[1], kv[0])
    )
    return JSONResponse(
        {
            "as_of": now.isoformat(timespec="seconds"),
            "day": today.isoformat(),
            "received": live["received"],
            "received_by_hour": live["received_by_hour"],
            "open_tickets": live["open_tickets"],
            "overdue_tickets": len({d["ticket_id"] for d in overdue}),
            "supervised_tickets": len({c["ticket_id"] for c in cases}),
            "by_channel": [
                {"channel": c, "name": labels.label(labels.CHANNEL, c), "received": n}
                for c, n in sorted(channels.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "top_categories": [
                {"category": c, "received": n} for c, n in categories[:TOP_CATEGORIES]
            ],
            "areas": {
                "district": {
                    "received": _received(district_today["groups"], "district"),
                    "satisfaction": _satisfaction(district_month["groups"], "district"),
                },
                "street": {
                    "received": _received(street_today["groups"], "street"),
                    "satisfaction": _satisfaction(street_month["groups"], "street"),
                },
            },
            "satisfaction_days": RATE_DAYS,
            "warnings": [
                {
                    "category": t["category"],
                    "area": t["area_name"] or t["area_code"],
                    "count": t["count"],
                    "previous": t["previous"],
                }
                for t in warnings["topics"][:6]
            ],
        }
    )
