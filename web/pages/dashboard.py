"""The supervisor dashboard (督查看板): the month's rates beside last month's, the trend, the
rankings by unit class with tiers and the bottom flags, overdue and due-soon deadlines,
supervision cases by level, hot topics and spike warnings, the 每月一题 candidate, and the
month's report to download — each from the service that owns it, with the user's own token.

A unit signs in to the same page and sees its own figures, its rank in its class and its own
deadlines and cases (the services scope what a unit token reads); the centre's lists are not
asked for."""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime, timedelta
from typing import Any, get_args

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from shared.auth import Role
from shared.clock import CHINA
from shared.events.routing import UnitClass
from web.client import ApiProblem, ServiceClient
from web.navigation import TICKET_READERS, page
from web.pages.common import Services, Session, allowed, attempt, render

router = APIRouter()

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
TREND_MONTHS = 6
# The rates the dashboard leads with: the three rates (三率) and the three that qualify them.
SHOWN_RATES = (
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "on_time_completion_rate",
    "reopen_rate",
    "return_rate",
)
UNIT_CLASSES: tuple[str, ...] = get_args(UnitClass)  # routing's, ranked class by class
EXPORTS = {"xlsx", "csv"}


def month_of(raw: str, today: date) -> date | None:
    """The first day of the chosen month (this month when none is chosen); None when the text
    is not a month."""
    if not raw:
        return today.replace(day=1)
    m = MONTH.match(raw)
    return date(int(m.group(1)), int(m.group(2)), 1) if m else None


def shift(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def last_day(first: date) -> date:
    return shift(first, 1) - timedelta(days=1)


def trend_rows(trend: dict[str, Any] | None, last_month: date) -> list[dict[str, Any]]:
    """The trend's months, oldest first, each with its rates (None: no denominator); a month
    without tickets is there too, with nothing in it."""
    found = {g["key"]["period"]: g for g in (trend or {}).get("groups", [])}
    rows = []
    for back in range(TREND_MONTHS - 1, -1, -1):
        label = shift(last_month, -back).strftime("%Y-%m")
        group = found.get(label)
        rows.append(
            {
                "month": label,
                **{name: group[name]["value"] if group else None for name in SHOWN_RATES},
                "received": group["counts"].get("received", 0) if group else 0,
            }
        )
    return rows


def _today() -> date:
    return datetime.now(CHINA).date()


async def _centre_lists(api: ServiceClient, first: date, area: str | None) -> dict[str, Any]:
    """What only the centre reads: rankings of every class, 末位约谈, hot topics, 每月一题."""
    label = first.strftime("%Y-%m")
    # 末位约谈 first: its answer names the bottom N of the formula version in force, which the
    # rankings then mark as this month's bottom.
    flagged = await asyncio.gather(
        *(
            attempt(api.get("/api/v1/analytics/rankings/flagged", month=label, unit_class=c))
            for c in UNIT_CLASSES
        )
    )
    rankings = await asyncio.gather(
        *(
            attempt(
                api.get(
                    "/api/v1/analytics/rankings",
                    month=label,
                    unit_class=c,
                    bottom=flags["n"] if flags else 0,
                )
            )
            for c, (flags, _) in zip(UNIT_CLASSES, flagged, strict=True)
        )
    )
    (topics, topics_problem), (problem, _), (areas, _) = await asyncio.gather(
        attempt(
            api.get(
                "/api/v1/analytics/hot-topics",
                period="month",
                date=first.isoformat(),
                area=area,
                limit=10,
            )
        ),
        attempt(api.get("/api/v1/analytics/monthly-problem", month=label)),
        attempt(api.get("/api/v1/areas")),
    )
    classes = []
    for c, (ranking, _), (flags, _) in zip(UNIT_CLASSES, rankings, flagged, strict=True):
        if ranking and ranking["units"]:
            classes.append(
                {
                    "unit_class": c,
                    "ranking": ranking,
                    "bottom": {u["unit_id"] for u in ranking["bottom"]},
                    "flagged": set(flags["flagged"]) if flags else set(),
                    "flag_months": flags["months"] if flags else None,
                }
            )
    return {
        "classes": classes,
        "topics": topics,
        "topics_problem": topics_problem,
        "monthly_problem": problem,
        "areas": [a for a in areas or [] if a["level"] in ("district", "street") and a["active"]],
    }


async def _own_rank(api: ServiceClient, label: str) -> dict[str, Any] | None:
    """A unit's own row in its class's ranking (the API shows a unit nothing else)."""
    mine, _ = await attempt(api.get("/api/v1/analytics/rankings", month=label))
    if not mine or not mine["units"] or not mine["units"][0]["unit_class"]:
        return None
    in_class, _ = await attempt(
        api.get(
            "/api/v1/analytics/rankings", month=label, unit_class=mine["units"][0]["unit_class"]
        )
    )
    return in_class


@router.get("/web/dashboard", response_class=HTMLResponse)
async def dashboard(
    request: Request, web: Session, api: Services, month: str = "", area: str = ""
) -> Response:
    allowed(web, page("dashboard").roles)
    centre = web.role != Role.UNIT.value
    first = month_of(month, _today())
    if first is None:
        invalid = ApiProblem(
            422,
            "输入有误",
            "月份格式应为 YYYY-MM。",
            errors=[{"field": "month", "message": "月份格式应为 YYYY-MM，例如 2026-11。"}],
        )
        return render(
            request,
            "dashboard.html",
            web,
            status_code=422,
            problem=invalid,
            errors=invalid.field_errors(),
            month=month,
            area=area,
            centre=centre,
            overdue=[],
            due_soon=[],
            cases=[],
            cases_by_level={},
        )
    last = last_day(first)
    area_code = (area or None) if centre else None
    sla_area = {"area_code": area_code}
    (
        (figures, figures_problem),
        (previous, _),
        (trend, _),
        (overdue, overdue_problem),
        (due_soon, _),
        (cases, _),
    ) = await asyncio.gather(
        attempt(
            api.get("/api/v1/analytics/rates", **{"from": first, "to": last, "area": area_code})
        ),
        attempt(
            api.get(
                "/api/v1/analytics/rates",
                **{"from": shift(first, -1), "to": first - timedelta(days=1), "area": area_code},
            )
        ),
        attempt(
            api.get(
                "/api/v1/analytics/rates",
                **{
                    "from": shift(first, 1 - TREND_MONTHS),
                    "to": last,
                    "area": area_code,
                    "group_by": "month",
                },
            )
        ),
        attempt(api.get("/api/v1/sla/overdue", **sla_area)),
        attempt(api.get("/api/v1/sla/due-soon", within_hours=24, **sla_area)),
        attempt(api.get("/api/v1/sla/supervision", **sla_area)),
    )
    label = first.strftime("%Y-%m")
    lists = await _centre_lists(api, first, area_code) if centre else {}
    own = None if centre else await _own_rank(api, label)
    by_level: dict[str, int] = {}
    for case in cases or []:
        by_level[case["level"]] = by_level.get(case["level"], 0) + 1
    return render(
        request,
        "dashboard.html",
        web,
        status_code=figures_problem.status if figures_problem else 200,
        problem=figures_problem,
        errors=figures_problem.field_errors() if figures_problem else {},
        centre=centre,
        ticket_links=web.role in TICKET_READERS,
        month=label,
        area=area_code or "",
        figures=figures,
        previous=previous,
        shown_rates=SHOWN_RATES,
        trend=trend_rows(trend, first),
        overdue=overdue or [],
        overdue_problem=overdue_problem,
        due_soon=due_soon or [],
        cases=cases or [],
        cases_by_level=by_level,
        own=own,
        **lists,
    )


@router.get("/web/dashboard/report.{fmt}")
async def report(
    web: Session, api: Services, fmt: str, month: str = "", area: str = ""
) -> Response:
    """The month's report (月度分析) as Excel or CSV: the same numbers as the dashboard's, for
    the same month and area."""
    allowed(web, page("dashboard").roles)
    first = month_of(month, _today())
    if fmt not in EXPORTS or first is None or web.role == Role.UNIT.value:
        raise ApiProblem(404, "没有这个报表", "报表只有 Excel（xlsx）和 CSV 两种格式，按月导出。")
    response = await api.download(
        "/api/v1/analytics/reports/monthly", date=first.isoformat(), format=fmt, area=area or None
    )
    return Response(
        response.content,
        media_type=response.headers["content-type"],
        headers={"Content-Disposition": response.headers["content-disposition"]},
    )


@router.get("/web/dashboard/definitions", response_class=HTMLResponse)
async def definitions(request: Request, web: Session, api: Services) -> Response:
    """口径说明: every formula version's formulas, weights, exclusions and thresholds."""
    allowed(web, page("dashboard").roles)
    versions, problem = await attempt(api.get("/api/v1/analytics/config-versions"))
    return render(request, "definitions.html", web, versions=versions or [], problem=problem)
