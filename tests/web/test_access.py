"""Each role logs in and sees only its own pages (按角色导航); the API docs render offline."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.web.browsing import (
    LEAD_UNIT,
    LEADER,
    OPERATOR,
    SUPERVISOR,
    assert_usable,
    log_in,
    unit_login,
)
from tests.web.conftest import screenshot

EVERY_PAGE = {
    "/web/desk",
    "/web/dispatch",
    "/web/callbacks",
    "/web/worklist",
    "/web/tickets",
    "/web/dashboard",
    "/web/screen",
}


@pytest.mark.parametrize(
    ("username", "pages"),
    [
        (OPERATOR, {"/web/desk", "/web/dispatch", "/web/callbacks", "/web/tickets"}),
        (unit_login(LEAD_UNIT), {"/web/worklist", "/web/dashboard"}),
        (SUPERVISOR, {"/web/dashboard", "/web/screen", "/web/tickets"}),
        (LEADER, {"/web/dashboard", "/web/screen"}),
    ],
)
def test_each_role_sees_only_its_pages(
    context: BrowserContext, username: str, pages: set[str]
) -> None:
    page = log_in(context, username)
    links = page.get_by_role("navigation", name="工作台").get_by_role("link")
    shown = {links.nth(i).get_attribute("href") for i in range(links.count())}
    assert shown == pages
    for path in sorted(EVERY_PAGE - pages):
        response = page.goto(path)
        assert response is not None and response.status == 403
        expect(page.get_by_role("heading", name="无权访问")).to_be_visible()
    for path in sorted(pages):
        page.goto(path)
        assert_usable(page)


def test_login_failure_and_logout(context: BrowserContext) -> None:
    page = context.new_page()
    page.goto("/web/worklist")  # no session: to the login page
    expect(page.get_by_label("账号")).to_be_focused()
    assert_usable(page)
    screenshot(page, "login")
    page.get_by_label("账号").fill(OPERATOR)
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("账号或密码不正确")
    page = log_in(context, OPERATOR)
    cookie = next(c for c in context.cookies() if c["name"] == "hotline_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    page.goto("/web/desk")
    expect(page.get_by_role("button", name="登录")).to_be_visible()


def test_a_post_without_the_csrf_token_is_refused(context: BrowserContext) -> None:
    page = log_in(context, OPERATOR)
    response = page.request.post("/web/desk", form={"title": "伪造的请求"})
    assert response.status == 403


def test_api_docs_render_from_vendored_assets(context: BrowserContext) -> None:
    page = context.new_page()
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("12345 hotline")
    expect(page.locator(".opblock").first).to_be_visible()
    screenshot(page, "docs", full_page=False)
    page.goto("/redoc")
    expect(page.locator("h1", has_text="12345 hotline").first).to_be_visible()
    expect(page.get_by_text("Receive Ticket").first).to_be_attached()
    screenshot(page, "redoc", full_page=False)


def test_a_services_problem_is_titled_in_chinese(context: BrowserContext) -> None:
    page = log_in(context, SUPERVISOR)
    response = page.goto("/web/tickets/T-NO-SUCH-TICKET")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("没有找到")
