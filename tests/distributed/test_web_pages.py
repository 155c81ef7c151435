"""The pages in the distributed run: any service's process serves them and reaches the other
services over HTTP (WEB_SERVICE_URLS), so a supervisor's dashboard, the big screen's data and an
operator's desk all answer from one process whose own service holds none of their figures."""

from __future__ import annotations

import re

import httpx

from services.demo import DEMO_PASSWORD
from services.stack import LocalStack


def log_in(client: httpx.Client, username: str) -> None:
    page = client.get("/web/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:300]
    r = client.post(
        "/web/login",
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": match.group(1)},
    )
    assert r.status_code == 303, r.text[:500]


def test_the_pages_of_one_process_call_the_others(stack: LocalStack) -> None:
    with httpx.Client(base_url=stack.url("routing"), timeout=30) as supervisor:
        log_in(supervisor, "supervisor-01")
        r = supervisor.get("/web/dashboard", params={"month": "2026-11"})
        assert r.status_code == 200, r.text[:500]
        assert "主要指标" in r.text and "口径版本" in r.text  # analytics answered
        assert "服务暂不可用" not in r.text
        r = supervisor.get("/web/screen/data.json")
        assert r.status_code == 200, r.text[:500]
        assert len(r.json()["received_by_hour"]) == 24
        r = supervisor.get("/web/screen/map.json")
        assert r.status_code == 200 and len(r.json()["features"]) >= 11  # routing's own
    with httpx.Client(base_url=stack.url("analytics"), timeout=30) as operator:
        log_in(operator, "operator-01")
        r = operator.get("/web/desk")
        assert r.status_code == 200 and "受理" in r.text
        r = operator.get("/web/tickets")
        assert r.status_code == 200 and "服务暂不可用" not in r.text  # intake answered
