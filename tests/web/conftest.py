"""A running embedded platform (all services and the pages, uvicorn on 127.0.0.1 and a free
port, demo directory and accounts loaded) and Debian's chromium driven by Playwright.

A missing chromium skips these tests locally and fails them in CI (`CI=true`), like a missing
PostgreSQL; `make test` installs it. Playwright's own browser download is not used.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from services import demo
from services.bootstrap import build_app
from shared.settings import PlatformSettings
from tests.support import missing

# Every run saves a screenshot of each page under .run/screenshots (not tracked); to refresh the
# README's, run with WEB_SCREENSHOTS=docs/screenshots and commit what changed.
SCREENSHOTS = Path(
    os.environ.get("WEB_SCREENSHOTS")
    or Path(__file__).resolve().parents[2] / ".run" / "screenshots"
)
VIEWPORT = {"width": 1366, "height": 768}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: needs Debian's chromium (required when CI=true)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/web/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@dataclass
class Platform:
    base_url: str
    app: FastAPI
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine):  # type: ignore[no-untyped-def]
        """Run a coroutine on the server's own loop (its engines belong to that loop)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=120)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def platform_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data = tmp_path_factory.mktemp("web-platform")
    app = build_app(
        platform=PlatformSettings(data_dir=data, load_demo=False, outbox_poll_seconds=0.1)
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the embedded platform did not start")
        time.sleep(0.05)
    platform = Platform(f"http://127.0.0.1:{port}", app, loop)
    platform.run(demo.load_directory(app.state.runtimes))
    platform.run(demo.load_accounts(app.state.runtimes))
    yield platform
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="session")
def api(platform_server: Platform) -> Iterator[httpx.Client]:
    """The services' HTTP API, for what a test compares the pages with."""
    with httpx.Client(base_url=platform_server.base_url, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = shutil.which("chromium")
    if executable is None:
        missing("Debian's chromium", "`apt-get install -y chromium` (make test does it)")
    from playwright.sync_api import expect, sync_playwright

    # The pages call the services, which share two cores with the whole suite: an assertion's
    # default 5 s was sometimes too short under load (context timeouts are 15 s as well).
    expect.set_options(timeout=15_000)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        yield browser
        browser.close()


@dataclass
class RequestLog:
    urls: list[str] = field(default_factory=list)

    def outside(self) -> list[str]:
        """Requests to anything but 127.0.0.1 (CDN fonts, scripts, trackers …)."""
        local = ("127.0.0.1",)
        return [u for u in self.urls if urlsplit(u.removeprefix("blob:")).hostname not in local]


@pytest.fixture
def requests_seen() -> RequestLog:
    return RequestLog()


@pytest.fixture
def context(browser, platform_server: Platform, requests_seen: RequestLog):  # type: ignore[no-untyped-def]
    """A fresh browser (no cookies) at 1366×768 whose every request is logged; at the end no
    request may have left 127.0.0.1."""
    context = browser.new_context(
        viewport=VIEWPORT, base_url=platform_server.base_url, locale="zh-CN"
    )
    context.on("request", lambda request: requests_seen.urls.append(request.url))
    context.set_default_timeout(15_000)
    yield context
    context.close()
    assert requests_seen.outside() == [], "requests left 127.0.0.1"


def screenshot(page, name: str, *, full_page: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Saved under SCREENSHOTS (the README shows docs/screenshots/); the long API docs only as
    seen."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)
