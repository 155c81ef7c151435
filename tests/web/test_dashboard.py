"""The centre's screens in Chromium: the supervisor dashboard's figures equal analytics' for the
same month and area, its Excel export holds the same numbers, a unit sees only its own figures
and rank, and the big screen draws every district and street and redraws itself when a new
ticket arrives."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import BrowserContext, Page, expect

from shared.auth import Role
from tests.analytics.streams import at, handled_ticket
from tests.support import COMPLAINT, bearer
from tests.web.browsing import LEADER, SUPERVISOR, assert_usable, log_in, unit_login
from tests.web.conftest import Platform, screenshot
from web.pages.dashboard import SHOWN_RATES

# A month of its own (other browser tests write today's tickets): four street offices, one
# ticket each in March 2026 and one in February, with different verdicts; one in 江南区.
MONTH = "2026-03"
C, D, E, F = "U-BJ0102", "U-BJ0103", "U-BJ0201", "U-BJ0202"
VERDICTS = {C: "satisfied", D: "basically_satisfied", E: "dissatisfied", F: "satisfied"}
AREAS = {C: "BJ010201", D: "BJ010301", E: "BJ020101", F: "BJ020201"}
DEMO_CITY = json.loads(
    (Path(__file__).resolve().parents[2] / "services" / "demo_city.json").read_text("utf-8")
)
SUPERVISOR_TOKEN = bearer(Role.SUPERVISOR)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@pytest.fixture(scope="module")
def march(platform_server: Platform) -> Iterator[None]:
    runtime = platform_server.app.state.runtimes["analytics"]
    events: list[Any] = []
    for unit, satisfaction in VERDICTS.items():
        events += handled_ticket(
            f"W3-{unit}", unit, at(3, 10, 9), satisfaction=satisfaction, area=AREAS[unit]
        )
        events += handled_ticket(f"W2-{unit}", unit, at(2, 10, 9), area=AREAS[unit])
    for e in events:
        platform_server.run(runtime.deliver(e))
    yield


def rates(api: httpx.Client, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    r = api.get(
        "/api/v1/analytics/rates",
        params={"from": f"{MONTH}-01", "to": f"{MONTH}-31", **params},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def shown_rates(page: Page) -> dict[str, str]:
    return {name: page.get_by_test_id(f"rate-{name}").inner_text() for name in SHOWN_RATES}


def test_the_dashboard_shows_analytics_figures_for_the_month_and_area(
    context: BrowserContext, api: httpx.Client, march: None
) -> None:
    page = log_in(context, SUPERVISOR)
    expect(page).to_have_url("/web/dashboard")  # the supervisor's home
    page.goto(f"/web/dashboard?month={MONTH}")
    city = rates(api, SUPERVISOR_TOKEN)
    assert city["counts"]["received"] == 4
    assert shown_rates(page) == {name: percent(city[name]["value"]) for name in SHOWN_RATES}
    assert page.get_by_test_id("count-received").inner_text() == "4"
    expect(page.get_by_test_id("config-version")).to_have_text(city["config_version"])
    # the trend holds February and March as the API groups them
    assert page.locator("tr[data-month='2026-02'] td").nth(1).inner_text() == "4"

    # rankings by class, with tiers and the bottom flagged, in the API's order
    ranking = api.get(
        "/api/v1/analytics/rankings",
        params={"month": MONTH, "unit_class": "street", "bottom": 3},
        headers=SUPERVISOR_TOKEN,
    ).json()
    rows = page.locator("[data-unit-class='street'] tbody tr")
    assert [rows.nth(i).get_attribute("data-unit") for i in range(rows.count())] == [
        u["unit_id"] for u in ranking["units"]
    ]
    assert rows.nth(0).locator("td").nth(1).inner_text() == "第1档"
    expect(page.locator(f"[data-unit-class='street'] tr[data-unit='{E}']")).to_contain_text(
        "本月末位"
    )
    assert_usable(page)
    screenshot(page, "dashboard")

    # one district: the page asks for the same area as the API
    page.get_by_label("区域").select_option("BJ02")
    page.get_by_role("button", name="查询").click()
    expect(page).to_have_url(f"/web/dashboard?month={MONTH}&area=BJ02")
    district = rates(api, SUPERVISOR_TOKEN, area="BJ02")
    assert district["counts"]["received"] == 2
    assert shown_rates(page) == {name: percent(district[name]["value"]) for name in SHOWN_RATES}

    # the formula version links to its definition
    page.get_by_test_id("config-version").click()
    expect(page.get_by_role("heading", name=f"口径版本 {city['config_version']}")).to_be_visible()
    expect(page.get_by_role("cell", name="满意率", exact=True).first).to_be_visible()
    screenshot(page, "definitions")


def test_the_excel_export_holds_the_numbers_on_the_screen(
    context: BrowserContext, api: httpx.Client, march: None
) -> None:
    page = log_in(context, SUPERVISOR)
    page.goto(f"/web/dashboard?month={MONTH}&area=BJ01")
    on_screen = page.get_by_test_id("rate-satisfaction_rate").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    sheet = book["指标"]
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=7) if row[0].value}
    cell = rows["满意率"][1]
    assert cell.number_format == "0.00%" and percent(cell.value) == on_screen
    assert [c.value for c in sheet[5]][:3] == ["区域", "江北区", "BJ01"]
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 CSV").click()
    text = Path(download.value.path()).read_text("utf-8-sig")
    assert text.startswith("12345热线月度分析 2026-03")


def test_a_unit_sees_only_its_own_figures_and_rank(
    context: BrowserContext, api: httpx.Client, march: None
) -> None:
    page = log_in(context, unit_login(E))
    page.goto(f"/web/dashboard?month={MONTH}")
    own = rates(api, bearer(Role.UNIT, E))
    assert own["unit_id"] == E and own["counts"]["received"] == 1
    assert shown_rates(page) == {name: percent(own[name]["value"]) for name in SHOWN_RATES}
    ranking = api.get(
        "/api/v1/analytics/rankings",
        params={"month": MONTH, "unit_class": "street"},
        headers=SUPERVISOR_TOKEN,
    ).json()
    mine = next(u for u in ranking["units"] if u["unit_id"] == E)
    expect(page.get_by_test_id("own-rank")).to_contain_text(
        f"{ranking['ranked_units']} 个单位中第 {mine['rank']} 名"
    )
    body = page.locator("main").inner_text()
    for other in (C, D, F):
        assert other not in body
    assert page.get_by_role("link", name="导出 Excel").count() == 0
    assert page.locator("[data-unit-class]").count() == 0  # no other unit's ranking
    assert_usable(page)
    screenshot(page, "dashboard-unit")
    for path in ("/web/screen", "/web/screen/data.json", "/web/dashboard/report.xlsx"):
        response = page.goto(path)
        assert response is not None and response.status in (403, 404), path


def test_a_leader_reads_the_figures_and_changes_nothing(
    context: BrowserContext, api: httpx.Client, march: None
) -> None:
    page = log_in(context, LEADER)
    expect(page).to_have_url("/web/dashboard")
    page.goto(f"/web/dashboard?month={MONTH}&area=BJ01")
    figures = rates(api, bearer(Role.LEADER), area="BJ01")
    assert shown_rates(page) == {name: percent(figures[name]["value"]) for name in SHOWN_RATES}
    assert page.locator("[data-unit-class='street'] tbody tr").count() == 4  # ranked city-wide
    leader = bearer(Role.LEADER)
    for method, path in (
        ("POST", "/api/v1/tickets"),
        ("GET", "/api/v1/tickets"),
        ("POST", "/api/v1/sla/supervision/x/resolve"),
        ("GET", "/api/v1/callbacks"),
        ("GET", "/api/v1/assignments"),
    ):
        r = api.request(method, path, json={}, headers=leader)
        assert r.status_code == 403, (method, path, r.status_code)
    response = page.goto("/web/tickets")
    assert response is not None and response.status == 403


def test_bad_month_is_shown_beside_the_field(context: BrowserContext, march: None) -> None:
    page = log_in(context, SUPERVISOR)
    response = page.goto("/web/dashboard?month=2026-13")
    assert response is not None and response.status == 422
    expect(page.locator("#month-error")).to_contain_text("YYYY-MM")
    expect(page.get_by_label("月份")).to_have_attribute("aria-invalid", "true")


def map_names(page: Page) -> set[str]:
    return set(
        page.evaluate(
            """() => {
                const chart = echarts.getInstanceByDom(document.getElementById('map-chart'));
                const data = chart.getModel().getSeriesByIndex(0).getData();
                const drawn = [];
                for (let i = 0; i < data.count(); i++) {
                    if (data.getItemGraphicEl(i)) drawn.push(data.getName(i));
                }
                return drawn;
            }"""
        )
    )


def test_the_big_screen_draws_the_city_and_redraws_on_a_new_ticket(
    context: BrowserContext, api: httpx.Client
) -> None:
    page = log_in(context, SUPERVISOR)
    page.goto("/web/screen?refresh=5")
    received = page.get_by_test_id("received")
    expect(received).not_to_have_text("—")
    today = api.get("/api/v1/analytics/today", headers=SUPERVISOR_TOKEN).json()
    before = int(received.inner_text())
    assert before == today["received"]
    assert page.get_by_test_id("open").inner_text() == str(today["open_tickets"])

    areas: dict[str, set[str]] = {a["level"]: set() for a in DEMO_CITY["areas"]}
    for a in DEMO_CITY["areas"]:
        areas[a["level"]].add(a["code"])
    page.wait_for_function("() => document.querySelector('#map-chart svg, #map-chart canvas')")
    expect(page.get_by_role("button", name="街道")).to_have_attribute("aria-pressed", "true")
    page.wait_for_function(
        "n => { const c = echarts.getInstanceByDom(document.getElementById('map-chart'));"
        " return c && c.getModel().getSeriesByIndex(0).getData().count() === n; }",
        arg=len(areas["street"]),
    )
    assert map_names(page) == areas["street"]
    page.get_by_role("button", name="区", exact=True).click()
    expect(page.locator("#map-level-name")).to_have_text("区")
    assert map_names(page) == areas["district"]
    page.get_by_role("button", name="满意率").click()
    expect(page.locator("#map-metric-name")).to_contain_text("满意率")

    r = api.post("/api/v1/tickets", json=COMPLAINT, headers=bearer(Role.OPERATOR))
    assert r.status_code == 201, r.text
    expect(received).to_have_text(str(before + 1), timeout=30_000)  # no reload: it refreshes
    assert_usable(page)
    page.get_by_role("button", name="街道").click()
    page.get_by_role("button", name="受理量").click()
    screenshot(page, "screen", full_page=False)
