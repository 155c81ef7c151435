"""What the centre's screens read from analytics: today by hour and the open tickets, the
report of a chosen area, and the Excel export's formats (percentages, column widths)."""

from __future__ import annotations

import io
from typing import Any

import httpx
from fastapi import FastAPI
from openpyxl import load_workbook

from analytics import rankings
from shared.auth import Role
from tests.analytics.streams import at, closed, deliver, handled_ticket, received
from tests.analytics.test_api import get
from tests.support import SUPERVISOR, bearer


async def test_today_counts_reports_by_china_hour_and_open_tickets(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    events: list[Any] = []
    for n, (hour, minute) in enumerate(((0, 5), (8, 59), (9, 0), (9, 30), (23, 59))):
        events += received(f"T{n}", at(11, 24, hour, minute))
    events += received("yesterday", at(11, 23, 23, 59))
    events += received("tomorrow", at(11, 25, 0, 0))
    events.append(closed("T0", at(11, 24, 12), "solved"))
    await deliver(app, events)

    body = await get(client, "today", date="2026-11-24")
    by_hour = body["received_by_hour"]
    assert len(by_hour) == 24
    assert (by_hour[0], by_hour[8], by_hour[9], by_hour[10], by_hour[23]) == (1, 1, 2, 0, 1)
    assert body["received"] == sum(by_hour) == 5
    assert body["open_tickets"] == 6  # seven received on three days, one closed

    unit = bearer(Role.UNIT, "U-BJ0101")
    r = await client.get("/api/v1/analytics/today", headers=unit)
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    r = await client.get("/api/v1/analytics/today", params={"date": "24.11"}, headers=SUPERVISOR)
    assert r.status_code == 422 and "date" in r.text


async def test_a_report_for_one_area_counts_that_area_only(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await deliver(
        app,
        handled_ticket("N1", "U-BJ0101", at(11, 9, 9), area="BJ010101")
        + handled_ticket("N2", "U-BJ0201", at(11, 10, 9), area="BJ020101")
        + handled_ticket("N3", "U-BJ0201", at(11, 11, 9), area="BJ020102"),
    )
    counts = {
        c["count"]: c["current"]
        for c in (await get(client, "reports/monthly", date="2026-11-15", area="BJ02"))["counts"]
    }
    assert counts["received"] == 2
    whole = await get(client, "reports/monthly", date="2026-11-15")
    assert {c["count"]: c["current"] for c in whole["counts"]}["received"] == 3
    assert whole["area"] is None
    r = await client.get(
        "/api/v1/analytics/reports/monthly", params={"area": "XX99"}, headers=SUPERVISOR
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.area"


async def test_the_excel_report_shows_rates_as_percentages_in_wide_enough_columns(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await deliver(
        app,
        handled_ticket("X1", "U-BJ0101", at(11, 9, 9))
        + handled_ticket("X2", "U-BJ0102", at(11, 10, 9), satisfaction="dissatisfied"),
    )
    r = await client.get(
        "/api/v1/analytics/reports/monthly",
        params={"date": "2026-11-15", "format": "xlsx", "area": "BJ01"},
        headers=SUPERVISOR,
    )
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    metrics = book["指标"]
    assert [c.value for c in metrics[5]][:3] == ["区域", "江北区", "BJ01"]
    rows = {row[0].value: row for row in metrics.iter_rows(min_row=8)}
    satisfaction = rows["满意率"]
    assert satisfaction[1].value == 0.5 and satisfaction[1].number_format == "0.00%"
    assert rows["平均办理时长(工作日)"][1].number_format == "0.00"
    assert metrics.column_dimensions["A"].width >= len("平均办理时长(工作日)") * 2
    ranking = book["单位排名"]
    header = [c.value for c in ranking[1]]
    first = ranking[2]
    assert first[header.index("满意率")].number_format == "0.00%"
    assert first[header.index("名次")].number_format == "General"


def test_tiers_split_a_class_by_rank_into_equal_bands() -> None:
    ranks = [rankings.tier_of(rank, 10, 4) for rank in range(1, 11)]
    assert ranks == [1, 1, 1, 2, 2, 3, 3, 3, 4, 4]
    assert rankings.tier_of(None, 10, 4) is None  # an unscored unit has no tier
    assert rankings.tier_of(1, 1, 4) == 1 and rankings.tier_of(3, 3, 1) == 1
