"""Bad input in a form shows the service's message beside the field, and nothing changes."""

from __future__ import annotations

import httpx
from playwright.sync_api import BrowserContext, expect

from shared.auth import Role
from tests.support import bearer
from tests.web.browsing import OPERATOR, log_in
from tests.web.conftest import screenshot


def test_a_bad_phone_number_is_shown_beside_its_field(
    context: BrowserContext, api: httpx.Client
) -> None:
    def tickets() -> int:
        found = api.get("/api/v1/tickets", params={"limit": 500}, headers=bearer(Role.OPERATOR))
        return len(found.json())

    before = tickets()
    page = log_in(context, OPERATOR)
    page.goto("/web/desk")
    page.get_by_label("来电号码").fill("12")
    page.get_by_label("标题").fill("早市摊贩占道")
    page.get_by_label("诉求内容").fill("小区门口早市摊贩占道经营。")
    page.get_by_label("诉求分类").fill("城市管理/市容环境/占道经营")
    page.get_by_role("button", name="受理", exact=True).click()

    phone = page.get_by_label("来电号码")
    expect(phone).to_have_attribute("aria-invalid", "true")
    error = page.locator("#citizen-phone-error")
    expect(error).to_contain_text("'12' is not a phone number")
    # Beside the field: the message is what the field's aria-describedby names.
    expect(phone).to_have_attribute("aria-describedby", "citizen-phone-error")
    expect(page.get_by_label("标题")).to_have_value("早市摊贩占道")  # what was typed stays
    screenshot(page, "desk-bad-input")
    assert tickets() == before
