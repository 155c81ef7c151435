"""Alembic, one history and one version table per service, run at start-up and by `make migrate`.

Each service's `migrations/env.py` calls `run_env` with its MetaData; the runtime hands Alembic
an open connection so the same code works for SQLite and PostgreSQL.
"""

from __future__ import annotations

import zlib
from typing import Any, Literal

from alembic import command, context
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import Instant


def version_table(service: str) -> str:
    return f"{service}_alembic_version"


def alembic_config(service: str) -> Config:
    config = Config()
    config.set_main_option("script_location", f"{service}:migrations")
    config.attributes["service"] = service
    return config


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Migrations stay plain SQLAlchemy: an `Instant` column is a timezone-aware DateTime."""
    if type_ == "type" and isinstance(obj, Instant):
        return "sa.DateTime(timezone=True)"
    return False


def run_env(metadata: MetaData) -> None:
    """The body of every service's `migrations/env.py`."""
    config = context.config
    service = config.attributes["service"]
    connection: Connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=version_table(service),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def upgrade(engine: AsyncEngine, service: str, revision: str = "head") -> None:
    def _upgrade(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            # Replicas starting together: one migrates, the others wait and find it done.
            key = zlib.crc32(f"migrate:{service}".encode())
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        config = alembic_config(service)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


async def autogenerate(engine: AsyncEngine, service: str, message: str) -> None:
    """Write a new revision from the difference between the models and the migrated database."""

    def _revision(connection: Connection) -> None:
        config = alembic_config(service)
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)

    await upgrade(engine, service)
    async with engine.begin() as conn:
        await conn.run_sync(_revision)
