"""Migration 0004: the classes sla stored under its own name-guessing rule ('city') take
routing's name ('department'), on SQLite and PostgreSQL, and back on downgrade."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from shared import db, migrations
from sla.models import DeadlineClock, PolicyVersion
from tests.support import require_postgres

AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _policy(code: str, unit_class: str | None) -> dict[str, object]:
    return {
        "code": code,
        "version": 1,
        "name": "",
        "unit_class": unit_class,
        "sign_amount": 1,
        "sign_unit": "working_days",
        "response_amount": 1,
        "response_unit": "working_days",
        "completion_amount": 3,
        "completion_unit": "working_days",
        "reminders": "[]",
        "effective_from": AT,
        "retired": False,
        "created_at": AT,
        "created_by": "test",
    }


def _clock(id_: str, unit_class: str | None) -> dict[str, object]:
    return {
        "id": id_,
        "ticket_id": "T1",
        "assignment_id": id_,
        "unit_id": "U1",
        "policy": "default-ordinary@v0",
        "started_at": AT,
        "unit_class": unit_class,
    }


def _downgrade(connection: Connection, revision: str) -> None:
    config = migrations.alembic_config("sla")
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def _check(url: str) -> None:
    engine = db.create_engine(url)
    classes_of_policies = select(PolicyVersion.code, PolicyVersion.unit_class).order_by(
        PolicyVersion.code
    )
    classes_of_clocks = select(DeadlineClock.id, DeadlineClock.unit_class).order_by(
        DeadlineClock.id
    )
    try:
        await migrations.upgrade(engine, "sla", "0003")
        async with engine.begin() as conn:
            await conn.execute(
                insert(PolicyVersion),
                [_policy("a", "city"), _policy("b", "street"), _policy("c", None)],
            )
            await conn.execute(
                insert(DeadlineClock),
                [_clock("KA", "city"), _clock("KB", "district"), _clock("KC", None)],
            )
        await migrations.upgrade(engine, "sla")
        async with engine.connect() as conn:
            assert (await conn.execute(classes_of_policies)).all() == [
                ("a", "department"),
                ("b", "street"),
                ("c", None),
            ]
            assert (await conn.execute(classes_of_clocks)).all() == [
                ("KA", "department"),
                ("KB", "district"),
                ("KC", None),
            ]
        async with engine.begin() as conn:
            await conn.run_sync(_downgrade, "0003")
        async with engine.connect() as conn:
            assert [c for _, c in (await conn.execute(classes_of_policies)).all()] == [
                "city",
                "street",
                None,
            ]
            assert [c for _, c in (await conn.execute(classes_of_clocks)).all()] == [
                "city",
                "district",
                None,
            ]
    finally:
        await engine.dispose()


async def test_city_becomes_department_on_sqlite(tmp_path: Path) -> None:
    await _check(f"sqlite+aiosqlite:///{tmp_path / 'sla.db'}")


@pytest.mark.postgres
async def test_city_becomes_department_on_postgres() -> None:
    require_postgres()
    name = f"hl_sla_mig_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await _check(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}")
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
