"""What the browser tests do again and again: log in by keyboard, wait for something the
event bus brings, check a page is usable (labelled fields, fits 1366 wide)."""

from __future__ import annotations

import time
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from services.demo import DEMO_PASSWORD

OPERATOR = "operator-01"
CALLBACK_OPERATOR = "operator-02"
DISPATCHER = "dispatcher-01"
SUPERVISOR = "supervisor-01"
LEADER = "leader-01"  # 领导: reads the dashboard and the big screen only
LEAD_UNIT = "U-BJ01-CG"  # 江北区城管委: leads street-vending tickets in 长安街道 (rule R005)
ASSISTING_UNIT = "U-BJ0101"  # 长安街道办事处 assists


def unit_login(unit_id: str) -> str:
    return f"unit-{unit_id}"


def log_in(context: BrowserContext, username: str) -> Page:
    """Log in with the keyboard only: type, Tab, type, Enter."""
    page = context.new_page()
    page.goto("/web/login")
    # The username field takes the focus once the page is up; keys typed before that are lost
    # (the login then failed now and then with 账号或密码不正确).
    expect(page.get_by_label("账号")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    # Logging in hashes the password (argon2id, on purpose slow): on a loaded machine it takes
    # longer than an assertion's default 5 s.
    expect(page.get_by_role("button", name="退出登录")).to_be_visible(timeout=30_000)
    return page


def until(page: Page, check: Callable[[], bool], *, what: str, timeout: float = 30) -> None:
    """Reload until `check` holds: the services learn from events, a moment after the click."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} on {page.url}")
        time.sleep(0.3)
        page.reload()


def assert_usable(page: Page) -> None:
    """Every field has a label, and nothing is wider than a 1366-pixel screen."""
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
              .filter(e => !e.labels || e.labels.length === 0)
              .map(e => e.name || e.id)"""
    )
    assert unlabelled == [], f"fields without a label on {page.url}: {unlabelled}"
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1366, f"{page.url} is {width}px wide"
