"""Login lockout (登录锁定): repeated failed password logins for one account name lock it, for
longer each time; the lock is the same for names that are no account, holds the right password
out too, leaves other names alone, ends when its time is up, and a success clears the count.
The state is in accounts' database: two accounts processes count the same failures, on SQLite
and on PostgreSQL.

accounts dates logins by the wall clock (accounts.router.wall_time), so these tests replace
that dependency with a frozen clock and move it on."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from accounts import app as accounts_app
from accounts.config import AccountsSettings, settings
from accounts.domain import LockoutPolicy, LoginFailures, after_failed_login, locked_for
from accounts.models import LoginThrottle
from accounts.router import wall_time
from services.bootstrap import build_app
from shared.auth import subject_digest
from shared.clock import FrozenClock
from shared.metrics import REGISTRY
from shared.settings import PlatformSettings
from tests.accounts.helpers import ADMIN, PASSWORD, assert_problem, create, login
from tests.support import require_postgres

N = settings().login_max_failures  # 5
FIRST = settings().login_lockout_seconds  # 60
WRONG = "not the password"


@pytest.fixture
def wall(app: FastAPI) -> Iterator[FrozenClock]:
    """accounts' wall clock, frozen at the real time and moved by the test."""
    frozen = FrozenClock(datetime.now(UTC))
    app.dependency_overrides[wall_time] = frozen.now
    yield frozen
    app.dependency_overrides.pop(wall_time, None)


async def fail(client: httpx.AsyncClient, username: str, times: int) -> None:
    for _ in range(times):
        assert_problem(await login(client, username, WRONG), 401)


def assert_locked(r: httpx.Response, seconds: int) -> dict[str, object]:
    body = assert_problem(r, 429)
    assert r.headers["retry-after"] == str(seconds)
    assert body["retry_after"] == seconds and body["error"] == "invalid_grant"
    return body


async def test_a_name_is_locked_after_n_failures_and_not_before(
    client: httpx.AsyncClient, wall: FrozenClock
) -> None:
    await create(client, "op.lock")
    await fail(client, "op.lock", N - 1)
    assert (await login(client, "op.lock")).status_code == 200  # N - 1 failures: not locked
    await fail(client, "op.lock", N)
    assert_locked(await login(client, "op.lock"), FIRST)  # the right password is refused
    assert_locked(await login(client, "op.lock", WRONG), FIRST)
    wall.advance(timedelta(seconds=FIRST - 1))
    assert_locked(await login(client, "op.lock"), 1)


async def test_a_lock_ends_when_its_time_is_up_and_grows_while_failures_go_on(
    client: httpx.AsyncClient, wall: FrozenClock
) -> None:
    await create(client, "op.wait")
    await fail(client, "op.wait", N)
    wall.advance(timedelta(seconds=FIRST))
    await fail(client, "op.wait", 1)  # the lock waited out, and still wrong: twice as long
    assert_locked(await login(client, "op.wait"), 2 * FIRST)
    wall.advance(timedelta(seconds=2 * FIRST))
    assert (await login(client, "op.wait")).status_code == 200
    assert (await login(client, "op.wait", WRONG)).status_code == 401  # counted from 1 again


async def test_a_success_clears_the_count(client: httpx.AsyncClient, wall: FrozenClock) -> None:
    await create(client, "op.typo")
    for _ in range(3):  # 3 × (N - 1) failures in all, never N in a row
        await fail(client, "op.typo", N - 1)
        assert (await login(client, "op.typo")).status_code == 200


async def test_failures_a_window_apart_do_not_add_up(
    client: httpx.AsyncClient, wall: FrozenClock
) -> None:
    await create(client, "op.slow")
    for _ in range(N):
        await fail(client, "op.slow", 1)
        wall.advance(timedelta(seconds=settings().login_failure_window_seconds))
    assert (await login(client, "op.slow")).status_code == 200


async def test_other_names_are_not_affected(client: httpx.AsyncClient, wall: FrozenClock) -> None:
    await create(client, "op.one")
    await create(client, "op.two")
    await fail(client, "op.one", N - 1)
    await fail(client, "op.two", N - 1)  # op.two's failures are not op.one's
    await fail(client, "op.one", 1)
    assert_locked(await login(client, "op.one"), FIRST)
    assert (await login(client, "op.two")).status_code == 200


async def test_a_name_that_is_no_account_is_locked_alike(
    client: httpx.AsyncClient, wall: FrozenClock
) -> None:
    """The answers never tell which names exist: before the lock, and during it."""
    await create(client, "op.real")
    await fail(client, "op.real", N)
    await fail(client, "op.ghost", N)
    real = assert_locked(await login(client, "op.real", WRONG), FIRST)
    ghost = assert_locked(await login(client, "op.ghost", WRONG), FIRST)
    assert real == ghost


async def test_an_administrators_password_reset_lifts_the_lock(
    client: httpx.AsyncClient, wall: FrozenClock
) -> None:
    await create(client, "op.reset")
    await fail(client, "op.reset", N)
    r = await client.post(
        "/api/v1/accounts/op.reset/password", headers=ADMIN, json={"password": PASSWORD + "!"}
    )
    assert r.status_code == 200, r.text
    assert (await login(client, "op.reset", PASSWORD + "!")).status_code == 200


async def test_the_lock_is_logged_and_counted_without_the_name(
    client: httpx.AsyncClient, wall: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    def lockouts() -> float:
        return REGISTRY.get_sample_value("hotline_accounts_login_lockouts_total") or 0.0

    before = lockouts()
    with caplog.at_level(logging.INFO):
        await fail(client, "zhang.wei.13800135678", N)
        assert_locked(await login(client, "zhang.wei.13800135678"), FIRST)
    assert lockouts() == before + 1
    (line,) = [r.getMessage() for r in caplog.records if "locked" in r.getMessage()]
    assert subject_digest("zhang.wei.13800135678") in line
    assert "zhang" not in caplog.text and "13800135678" not in caplog.text
    assert WRONG not in caplog.text


# ------------------------------------------------------------------ two accounts processes


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def accounts_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'accounts.db'}"
        return
    require_postgres()
    name = f"hl_accounts_lock_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def test_two_accounts_processes_count_the_same_failures(
    accounts_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Failures sent to either of two accounts processes on one database add up, none lost
    when they race, and the lock holds on both."""
    monkeypatch.setattr(
        accounts_app, "settings", lambda: AccountsSettings(database_url=accounts_database)
    )
    apps = [
        build_app(
            ["accounts"],
            platform=PlatformSettings(data_dir=tmp_path / f"p{i}", outbox_poll_seconds=0.1),
        )
        for i in range(2)
    ]
    async with (
        apps[0].router.lifespan_context(apps[0]),
        apps[1].router.lifespan_context(apps[1]),
        httpx.AsyncClient(transport=httpx.ASGITransport(apps[0]), base_url="http://a") as one,
        httpx.AsyncClient(transport=httpx.ASGITransport(apps[1]), base_url="http://b") as two,
    ):
        await create(one, "op.twice")
        answers = await asyncio.gather(
            *(login(c, "op.twice", WRONG) for c in (one, two) for _ in range(N - 1))
        )
        refused = [r.status_code for r in answers]
        assert refused.count(401) + refused.count(429) == len(answers)
        async with apps[0].state.runtimes["accounts"].sessionmaker() as session:
            row = await session.get(LoginThrottle, subject_digest("op.twice"))
        assert row is not None and row.failures == refused.count(401) >= N
        assert_problem(await login(one, "op.twice"), 429)
        assert_problem(await login(two, "op.twice"), 429)
        assert (await login(one, "op.ghost", WRONG)).status_code == 401


# ------------------------------------------------------------------ the rule itself

POLICY = LockoutPolicy(
    max_failures=3,
    window=timedelta(minutes=15),
    first_lockout=timedelta(minutes=1),
    max_lockout=timedelta(minutes=5),
)
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_the_rule_locks_at_the_threshold_doubles_and_caps() -> None:
    failures, locks = LoginFailures(), []
    now = T0
    for _ in range(7):
        failures = after_failed_login(failures, POLICY, now)
        wait = locked_for(failures, now)
        locks.append(int(wait.total_seconds()) if wait else 0)
        now = failures.locked_until or now + timedelta(seconds=10)  # try again when let in
    assert locks == [0, 0, 60, 120, 240, 300, 300]


def test_the_rule_forgets_after_a_quiet_window_from_the_lock_end() -> None:
    locked = LoginFailures(3, T0, T0 + timedelta(minutes=1))
    again = after_failed_login(locked, POLICY, T0 + timedelta(minutes=15))  # 14 min after
    assert again.count == 4 and locked_for(again, again.last_at or T0) == timedelta(minutes=2)
    fresh = after_failed_login(locked, POLICY, T0 + timedelta(minutes=16))
    assert fresh == LoginFailures(1, T0 + timedelta(minutes=16), None)


def test_the_rule_never_shortens_a_lock() -> None:
    """A failure that raced past the lock check is counted, but cannot shorten the lock."""
    locked = LoginFailures(3, T0, T0 + timedelta(minutes=5))
    after = after_failed_login(locked, POLICY, T0 + timedelta(seconds=1))
    assert after.count == 4 and after.locked_until == T0 + timedelta(minutes=5)
