"""Rankings with ties, bottom-N and 末位约谈; hot topics, warnings, 每月一题; reports; access
and bad input."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook

from shared.auth import Role
from tests.analytics.streams import at, deliver, handled_ticket
from tests.analytics.test_metrics import november
from tests.support import OPERATOR, SUPERVISOR, bearer

C, D, E, F = "U-BJ0102", "U-BJ0103", "U-BJ0201", "U-BJ0202"  # four street offices


def three_months() -> list[Any]:
    """Each month one ticket per street, all in time and solved. Satisfaction: C and D
    satisfied (score 100), F basically satisfied (100 × (0.1 + 0.45 + 0.45 × 0.8) = 91),
    E dissatisfied (100 × (0.1 + 0.45) = 55); in November D is dissatisfied too."""
    events: list[Any] = []
    for month, day in ((9, 7), (10, 12), (11, 9)):
        verdicts = {C: "satisfied", D: "satisfied", E: "dissatisfied", F: "basically_satisfied"}
        if month == 11:
            verdicts[D] = "dissatisfied"
        for unit, satisfaction in verdicts.items():
            events += handled_ticket(
                f"R{month}-{unit}", unit, at(month, day, 9), satisfaction=satisfaction
            )
    return events


async def get(
    client: httpx.AsyncClient, path: str, headers: Any = SUPERVISOR, **params: Any
) -> Any:
    r = await client.get(f"/api/v1/analytics/{path}", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_monthly_ranking_with_ties_and_trend(app: FastAPI, client: httpx.AsyncClient) -> None:
    await deliver(app, three_months())
    october = await get(client, "rankings", month="2026-10", unit_class="street", bottom=1)
    assert [(u["unit_id"], u["rank"], u["score"]) for u in october["units"]] == [
        (C, 1, 100.0),
        (D, 1, 100.0),  # a tie shares the rank; listed by unit id
        (F, 3, 91.0),
        (E, 4, 55.0),
    ]
    assert [u["unit_id"] for u in october["bottom"]] == [E]
    assert october["tiers"] == 4  # four ranked streets, one tier each; the tie shares tier 1
    assert [u["tier"] for u in october["units"]] == [1, 1, 3, 4]
    november_ = await get(client, "rankings", month="2026-11", unit_class="street", bottom=1)
    ranks = {u["unit_id"]: (u["rank"], u["previous_rank"], u["change"]) for u in november_["units"]}
    assert ranks == {C: (1, 1, 0.0), F: (2, 3, 0.0), D: (3, 1, -45.0), E: (3, 4, 0.0)}
    assert {u["unit_id"] for u in november_["bottom"]} == {D, E}  # tied at the bottom
    # Other classes are ranked apart.
    departments = await get(client, "rankings", month="2026-11", unit_class="department")
    assert departments["units"] == []


async def test_bottom_three_months_running_are_called_in(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await deliver(app, three_months())
    body = await get(
        client, "rankings/flagged", month="2026-11", unit_class="street", n=1, months=3
    )
    assert body["history"] == [
        {"month": "2026-09", "bottom": [E]},
        {"month": "2026-10", "bottom": [E]},
        {"month": "2026-11", "bottom": [D, E]},
    ]
    assert body["flagged"] == [E]  # D was at the bottom only once


async def test_a_unit_sees_its_own_figures_and_rank_only(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await deliver(app, three_months())
    unit_e = bearer(Role.UNIT, E)
    mine = await get(client, "rankings", headers=unit_e, month="2026-11", unit_class="street")
    assert [(u["unit_id"], u["rank"]) for u in mine["units"]] == [(E, 3)]
    assert mine["ranked_units"] == 4 and mine["bottom"] == []
    own = await get(client, "rates", headers=unit_e, **{"from": "2026-11-01", "to": "2026-11-30"})
    assert own["unit_id"] == E and own["satisfaction_rate"]["value"] == 0.0
    for path, params in (
        ("rates", {"unit_id": C}),
        ("rankings/flagged", {}),
        ("hot-topics", {}),
        ("warnings", {}),
        ("monthly-problem", {}),
        ("reports/monthly", {}),
    ):
        r = await client.get(f"/api/v1/analytics/{path}", params=params, headers=unit_e)
        assert r.status_code == 403, (path, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    r = await client.get("/api/v1/analytics/rates", headers=bearer(Role.GATEWAY))
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("rates", {"group_by": "unit,colour"}, "group_by"),
        ("rates", {"group_by": "day,month"}, "group_by"),
        ("rates", {"from": "2026-11-30", "to": "2026-11-01"}, "to"),
        ("rates", {"from": "2026-11-01"}, "to"),  # unbounded
        ("rates", {"from": "2020-01-01", "to": "2026-11-30"}, "to"),  # too long
        ("rates", {"from": "2025-01-01", "to": "2026-11-30", "group_by": "day"}, "group_by"),
        ("rates", {"unit_id": "U-NOWHERE"}, "unit_id"),
        ("rates", {"area": "XX99"}, "area"),
        ("rates", {"unit_class": "ministry"}, "unit_class"),
        ("rankings", {"month": "2026-13"}, "month"),
        ("rankings", {"metric": "happiness"}, "metric"),
        ("hot-topics", {"period": "fortnight"}, "period"),
        ("hot-topics", {"area_level": "planet"}, "area_level"),
        ("reports/fortnightly", {}, "kind"),
        ("reports/monthly", {"format": "pdf"}, "format"),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field(
    client: httpx.AsyncClient, path: str, params: dict[str, str], field: str
) -> None:
    r = await client.get(f"/api/v1/analytics/{path}", params=params, headers=SUPERVISOR)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body.get("field") == field or field in str(body.get("errors", "")), body


def topic_week(week_day: int, n: int, category: str, prefix: str) -> list[Any]:
    return [
        e
        for i in range(n)
        for e in handled_ticket(
            f"{prefix}{week_day}-{i}",
            "U-BJ0101",
            at(11, week_day, 9),
            category=category,
            citizen=f"c-{prefix}-{i % 2}",  # two citizens: every ticket after each's first repeats
            solved="unsolved" if i % 3 == 0 else "solved",
        )
    ]


async def test_hot_topics_warnings_and_the_monthly_problem(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    heat = "供暖/室温不达标"
    noise = "城乡建设/施工扰民"
    events: list[Any] = []
    for monday in (2, 9, 16):  # three ordinary weeks: one heating ticket, two noise tickets
        events += topic_week(monday, 1, heat, "H") + topic_week(monday, 2, noise, "N")
    events += topic_week(23, 6, heat, "H") + topic_week(23, 2, noise, "N")  # heating spikes
    await deliver(app, events)
    body = await get(client, "hot-topics", period="week", date="2026-11-25")
    assert (body["period"], body["period_from"], body["previous_from"]) == (
        "2026-W48",
        "2026-11-23",
        "2026-11-16",
    )
    top = {t["category"]: t for t in body["topics"]}
    assert top[heat] | {"baseline": 0.75} == top[heat]  # (1 + 1 + 1 + 0) / 4 periods
    assert (top[heat]["count"], top[heat]["previous"], top[heat]["change"]) == (6, 1, 5.0)
    assert top[heat]["area_code"] == "BJ01" and top[heat]["area_name"] == "江北区"
    assert top[heat]["share"] == 0.75 and top[heat]["spike"] is True
    assert top[noise]["spike"] is False  # 2 against a baseline of 1.5
    warnings = await get(client, "warnings", period="week", date="2026-11-25")
    assert [t["category"] for t in warnings["topics"]] == [heat]

    problem = await get(client, "monthly-problem", month="2026-11")
    # Heating: 9 tickets from 2 citizens → 7 repeats; unsolved verdicts: i % 3 == 0 → weeks
    # 2, 9, 16 one each, week 23 two (i = 0, 3) → 5. Noise: 8 tickets, 2 citizens → 6
    # repeats; unsolved one per week → 4.
    assert problem["candidate"]["category"] == heat
    assert [
        (c["category"], c["repeats"], c["unsolved"], c["score"]) for c in problem["candidates"]
    ] == [
        (heat, 7, 5, 12),
        (noise, 6, 4, 10),
    ]


async def test_reports_in_json_csv_and_excel(app: FastAPI, client: httpx.AsyncClient) -> None:
    await deliver(app, november() + three_months())
    body = await get(client, "reports/monthly", date="2026-11-15")
    assert body["title"] == "12345热线月度分析 2026-11"
    assert (body["previous_from"], body["previous_to"]) == ("2026-10-01", "2026-10-31")
    metrics = {m["metric"]: m for m in body["metrics"]}
    assert metrics["satisfaction_rate"]["name"] == "满意率"
    counts = {c["count"]: c for c in body["counts"]}
    assert (counts["received"]["current"], counts["received"]["previous"]) == (11, 4)
    assert body["ranking"][0]["rank"] == 1

    r = await client.get(
        "/api/v1/analytics/reports/monthly",
        params={"date": "2026-11-15", "format": "csv"},
        headers=OPERATOR,
    )
    assert r.status_code == 200 and r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["12345热线月度分析 2026-11"]
    assert ["指标", "本期", "上期", "变化"] in rows
    assert any(row[:1] == ["满意率"] for row in rows)

    r = await client.get(
        "/api/v1/analytics/reports/quarterly",
        params={"date": "2026-11-15", "format": "xlsx"},
        headers=SUPERVISOR,
    )
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["指标", "数量", "单位排名", "热点诉求"]
    sheet = book["指标"]
    assert sheet["A1"].value == "12345热线季度通报 2026-Q4"
    assert [c.value for c in sheet[6]] == ["指标", "本期", "上期", "变化"]
    for kind in ("daily", "weekly", "annual"):
        assert (await get(client, f"reports/{kind}", date="2026-11-24"))["kind"] == kind
