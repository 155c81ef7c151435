"""Each service's migrations create exactly its models' tables, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib
import uuid
from pathlib import Path

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from services import SERVICE_NAMES
from shared import db, migrations
from tests.support import require_postgres


def _differences(connection: Connection, service: str) -> list[object]:
    metadata = importlib.import_module(f"{service}.models").metadata
    context = MigrationContext.configure(
        connection, opts={"version_table": migrations.version_table(service), "compare_type": True}
    )
    return list(compare_metadata(context, metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def _check(url: str, service: str) -> None:
    engine = db.create_engine(url)
    try:
        await migrations.upgrade(engine, service)
        await migrations.upgrade(engine, service)  # a second start finds it done
        async with engine.connect() as conn:
            assert await conn.run_sync(_differences, service) == []
            tables = await conn.run_sync(_tables)
        assert f"{service}_alembic_version" in tables
        assert all(t.startswith(f"{service}_") for t in tables), tables
    finally:
        await engine.dispose()


@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_sqlite_migrations_match_the_models(tmp_path: Path, service: str) -> None:
    await _check(f"sqlite+aiosqlite:///{tmp_path / service}.db", service)


@pytest.mark.postgres
@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_postgres_migrations_match_the_models(service: str) -> None:
    require_postgres()
    name = f"hl_mig_{service}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await _check(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", service)
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
