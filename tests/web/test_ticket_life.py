"""One ticket's whole life through the pages alone: the operator takes the call (受理) → the
assisting and the lead unit sign, contact and reply (承办) → the callback operator records the
verdicts (回访) → the ticket shows closed, and the figures on its page equal the API's."""

from __future__ import annotations

import httpx
from playwright.sync_api import BrowserContext, Page, expect

from shared.auth import Role
from tests.support import COMPLAINT, bearer
from tests.web.browsing import (
    ASSISTING_UNIT,
    CALLBACK_OPERATOR,
    DISPATCHER,
    LEAD_UNIT,
    OPERATOR,
    SUPERVISOR,
    assert_usable,
    log_in,
    unit_login,
    until,
)
from tests.web.conftest import screenshot
from web.labels import URGENCY

PHONE = "13900139001"

CODE_OF_URGENCY = {text: code for code, text in URGENCY.items()}


def earlier_report(api: httpx.Client) -> str:
    """Another citizen's open ticket of the same matter, for the desk to offer as a candidate."""
    body = {**COMPLAINT, "citizen": {"name": "张先生", "phone": "13900139002"}}
    r = api.post("/api/v1/tickets", json=body, headers=bearer(Role.OPERATOR))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def take_call(page: Page, *, same_matter_of: str) -> str:
    page.goto("/web/desk")
    page.get_by_label("来电号码").fill(PHONE)
    page.get_by_label("来电号码").press("Tab")  # the caller's history comes by htmx
    expect(page.locator("#history")).to_contain_text("此号码无历史工单")
    page.get_by_label("诉求人姓名（选填）").fill("李女士")
    page.get_by_label("标题").fill("早市摊贩占道经营")
    page.get_by_label("诉求内容").fill("小区门口早市摊贩占道经营，每天早上六点开始，车辆无法通行。")
    page.get_by_label("诉求内容").press("Tab")  # intake's suggestions come by htmx
    suggested = page.get_by_test_id("suggested-category")
    expect(suggested).to_have_text("城市管理/市容环境/占道经营")
    suggested.click()
    expect(page.get_by_label("诉求分类")).to_have_value("城市管理/市容环境/占道经营")
    # the suggested urgency is taken with 采用 after the operator had chosen another
    page.get_by_label("紧急程度").select_option("complex")
    urgency = page.get_by_test_id("suggested-urgency")
    suggested_urgency = CODE_OF_URGENCY[urgency.locator("strong").inner_text()]
    assert suggested_urgency != "complex"
    urgency.get_by_role("button", name="采用").click()
    expect(page.get_by_label("紧急程度")).to_have_value(suggested_urgency)
    page.get_by_label("事发地址").fill("滨江市江北区长安街道阳光社区东门")
    page.get_by_label("事发地址").press("Tab")  # intake's same-matter candidates come by htmx
    candidate = page.get_by_test_id("same-matter-candidate").filter(has_text=same_matter_of)
    expect(candidate).to_contain_text("相似度")
    expect(page.get_by_role("radio", name="都不是，受理为新工单")).to_be_checked()
    candidate.get_by_role("radio").check()  # the operator confirms: the same matter
    assert_usable(page)
    screenshot(page, "desk")
    page.get_by_role("button", name="受理", exact=True).click()
    number = page.get_by_test_id("ticket-number")
    expect(number).to_be_visible()
    # Another citizen's ticket: a ticket of the caller's own that names it.
    expect(page.get_by_test_id("same-matter-link")).to_contain_text(same_matter_of)
    screenshot(page, "desk-accepted")
    return number.inner_text().strip()


def handle(context: BrowserContext, unit_id: str, ticket_id: str, *, shot: str = "") -> None:
    page = log_in(context, unit_login(unit_id))
    until(page, lambda: page.get_by_role("link", name=ticket_id).count() > 0, what="the ticket")
    if shot:
        assert_usable(page)
        screenshot(page, shot)
    page.get_by_role("link", name=ticket_id).click()
    page.get_by_role("button", name="签收").click()
    expect(page.get_by_role("status")).to_contain_text("已签收")
    page.get_by_role("button", name="首次联系").click()
    expect(page.get_by_role("status")).to_contain_text("已记录首次联系")
    page.get_by_label("办理结果").select_option("solved")
    page.get_by_label("答复内容").fill("已联系摊贩并清理占道摊位，早市已移至规定区域。")
    if shot:
        assert_usable(page)
        screenshot(page, "assignment")
    page.get_by_role("button", name="提交办结反馈").click()
    expect(page.get_by_role("status")).to_contain_text("已提交办结反馈")
    expect(page.get_by_test_id("assignment-status")).to_have_text("已办结反馈")
    page.close()


def call_back(context: BrowserContext, ticket_id: str) -> None:
    page = log_in(context, CALLBACK_OPERATOR)
    page.goto("/web/callbacks")
    card = page.locator("section.card", has=page.get_by_role("link", name=ticket_id))
    until(page, lambda: card.count() > 0, what="the ticket's callback")
    card.get_by_label("是否解决").select_option("solved")
    card.get_by_label("是否满意").select_option("satisfied")
    card.get_by_label("市民意见").fill("处理及时")
    assert_usable(page)
    screenshot(page, "callbacks")
    card.get_by_role("button", name="记录回访结果").click()
    expect(page.get_by_role("status")).to_contain_text("已记录回访结果")
    page.close()


def test_one_ticket_through_the_pages(context: BrowserContext, api: httpx.Client) -> None:
    earlier = earlier_report(api)
    operator = log_in(context, OPERATOR)
    ticket_id = take_call(operator, same_matter_of=earlier)
    operator.close()
    assert ticket_id != earlier
    confirmed = api.get(f"/api/v1/tickets/{ticket_id}", headers=bearer(Role.OPERATOR)).json()
    assert confirmed["same_matter_of"] == earlier
    # What the desk offered went with the ticket, as shown: the override rate's record.
    shown = confirmed["suggestion"]
    assert shown["top"][0] == confirmed["category"] == "城市管理/市容环境/占道经营"
    assert shown["source"] in ("model", "keywords") and 1 <= len(shown["top"]) <= 3

    handle(context, ASSISTING_UNIT, ticket_id)
    handle(context, LEAD_UNIT, ticket_id, shot="worklist")
    call_back(context, ticket_id)

    page = log_in(context, SUPERVISOR)
    page.goto(f"/web/tickets/{ticket_id}")
    until(
        page,
        lambda: page.get_by_test_id("ticket-status").inner_text() == "已结案",
        what="the ticket closed",
    )
    expect(page.get_by_test_id("callback-verdict")).to_have_text("解决 · 满意")
    # The supervisor sees the phone masked (脱敏).
    expect(page.locator("dl.facts").first).to_contain_text("139****9001")

    def figures_match() -> bool:
        rates = api.get(
            "/api/v1/analytics/rates",
            params={"unit_id": LEAD_UNIT},
            headers=bearer(Role.SUPERVISOR),
        ).json()
        shown = {
            name: page.get_by_test_id(name.replace("_", "-")).inner_text()
            for name in ("response_rate", "resolution_rate", "satisfaction_rate")
        }
        expected = {
            name: f"{rates[name]['value'] * 100:.1f}%"
            for name in shown
            if rates[name]["value"] is not None
        }
        return bool(expected) and shown == expected and shown["satisfaction_rate"] == "100.0%"

    until(page, figures_match, what="the page's figures to equal the API's")
    assert_usable(page)
    screenshot(page, "ticket")

    tickets = log_in(context, OPERATOR)
    tickets.goto("/web/tickets")
    screenshot(tickets, "tickets")
    dispatcher = log_in(context, DISPATCHER)
    dispatcher.goto("/web/dispatch")
    assert_usable(dispatcher)
    screenshot(dispatcher, "dispatch")
