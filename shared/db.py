"""Database engines: SQLite (aiosqlite, WAL) by default, PostgreSQL (asyncpg) when configured.

Engines never write a statement's values into a log or an error message: they carry citizens'
texts, phones and names. SQLAlchemy's errors and its statement log say
"[SQL parameters hidden due to hide_parameters=True]" instead, and aiosqlite's debug log, which
prints each call with its arguments, is kept at INFO.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import Mapper
from sqlalchemy.types import TypeDecorator

from shared import in_place

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Instant(TypeDecorator[datetime]):
    """An instant, stored in UTC. SQLite keeps no offset, so every aware datetime is converted
    to UTC on the way in and marked UTC on the way out; naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store aware instants only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_metadata() -> MetaData:
    """Each service has its own MetaData (its own tables, prefixed by the service name)."""
    return MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str) -> AsyncEngine:
    # aiosqlite logs "executing functools.partial(<execute>, sql, parameters)" at DEBUG.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    if is_sqlite(url):
        path = url.split("///", 1)[1] if "///" in url else ""
        if not path or path == ":memory:":  # its own single-connection pool
            engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
            busy_ms = in_place.BUSY_TIMEOUT_MS
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # One writer per file: SQLite serialises writers anyway, and connections contending
            # for its lock (busy-wait with backoff) are far slower than requests queueing for
            # one connection. Its statements run on the loop's thread (shared.in_place: a
            # fourth of the cost), which never waits for a lock: a file busy with another
            # process is waited for on the connection's worker thread.
            engine = create_async_engine(
                url,
                async_creator=in_place.connector(path),
                pool_size=1,
                max_overflow=0,
                pool_timeout=120,
                hide_parameters=True,
            )
            busy_ms = 0
        event.listen(engine.sync_engine, "connect", partial(_sqlite_pragmas, busy_ms=busy_ms))
        return engine
    return create_async_engine(
        url, pool_size=10, max_overflow=10, pool_pre_ping=True, hide_parameters=True
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, busy_ms: int) -> None:
    # WAL lets readers proceed while the relay or a consumer writes; the busy timeout (where
    # statements run on a thread of their own) makes concurrent writers wait instead of
    # failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def insert_for(session: AsyncSession, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT on the session's database that takes `on_conflict_do_nothing` / `_do_update`
    (the two dialects spell the same statement with their own classes)."""
    return insert_in(dialect_name(session), table)


def insert_in(dialect: str, table: Any) -> postgresql.Insert | sqlite.Insert:
    """`insert_for` by the dialect's name, for code holding a connection, not a session."""
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def column_values(row: Any) -> dict[str, Any]:
    """A mapped object's column values as it was given them (a column never set is left to
    the table), keyed as a Core INSERT of its table takes them: for a hot path that builds
    objects as the ORM would write them and writes them as rows."""
    keys = _column_keys(row.__class__)
    return {keys[attr]: value for attr, value in vars(row).items() if attr in keys}


@cache
def _column_keys(mapped: Any) -> dict[str, str]:
    """Each column attribute of a mapped class, with its column's key."""
    mapper: Mapper[Any] = inspect(mapped)
    return {prop.key: prop.columns[0].key for prop in mapper.column_attrs}


def dialect_name(session: AsyncSession) -> str:
    """ "postgresql" or "sqlite": the few statements that differ (locks, upserts) ask this."""
    return session.get_bind().dialect.name


def is_outage(error: BaseException) -> bool:
    """Whether `error` says the database could not be reached (connection refused or dropped,
    the server shutting down, no pooled connection in time), as opposed to an error of the
    event or the handler."""
    if isinstance(error, (ConnectionError, TimeoutError, PoolTimeout, InterfaceError)):
        return True
    if isinstance(error, DBAPIError):  # e.g. OperationalError: look at the driver's own error
        if error.connection_invalidated:
            return True
        return is_outage(error.orig) if isinstance(error.orig, BaseException) else False
    name = type(error).__name__  # asyncpg's, without importing the driver here
    return name in ("CannotConnectNowError", "ConnectionDoesNotExistError", "AdminShutdownError")
