"""The ceiling for intake accept: a bare FastAPI endpoint doing the least an accept must do.

    python -m tests.bench.ceiling --database sqlite:///PATH --port N
    python -m tests.bench.ceiling --database postgresql://USER@HOST:PORT/DB --port N

`POST /api/v1/tickets` validates the same JSON body intake takes (with pydantic, as FastAPI
does) and, in one transaction, writes a ticket row and an outbox row (the event that would
announce it), then answers 201 with the ticket's id. No authentication, classification,
area lookup, same-matter search or timeline: what is left is the server, the framework and
the two writes, so a platform figure divided by this one says how much of this machine's
capacity intake uses.

- SQLite: one aiosqlite connection, the platform's pragmas (WAL, synchronous=NORMAL); an
  asyncio lock keeps one transaction at a time on it (one connection cannot interleave two).
- PostgreSQL: an asyncpg pool of 10, as many connections as the platform's pool keeps.

Served by uvicorn exactly as `python -m services` serves the platform (`uvicorn.run(app,
host, port, log_level="info")`, so uvloop/httptools when installed, and an access log line
per request), with the same logging setup.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Protocol

import aiosqlite
import asyncpg
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field

# The ticket row carries the columns intake's ticket has at accept time; the outbox row is
# shared/outbox.py's table (unique event id, partial index on what is not yet published).
SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY, channel TEXT NOT NULL, kind TEXT NOT NULL, category TEXT,
    urgency TEXT NOT NULL, title TEXT NOT NULL, description TEXT NOT NULL, address TEXT,
    citizen_name TEXT, citizen_phone TEXT, anonymous INTEGER NOT NULL, status TEXT NOT NULL,
    received_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ix_tickets_received_at ON tickets (received_at);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, ticket_id TEXT NOT NULL,
    type TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL, published_at TEXT);
CREATE INDEX IF NOT EXISTS ix_outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
"""
POSTGRES_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id VARCHAR(32) PRIMARY KEY, channel VARCHAR(32) NOT NULL, kind VARCHAR(16) NOT NULL,
    category VARCHAR(200), urgency VARCHAR(16) NOT NULL, title VARCHAR(200) NOT NULL,
    description TEXT NOT NULL, address VARCHAR(300), citizen_name VARCHAR(64),
    citizen_phone VARCHAR(32), anonymous BOOLEAN NOT NULL, status VARCHAR(16) NOT NULL,
    received_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL);
CREATE INDEX IF NOT EXISTS ix_tickets_received_at ON tickets (received_at);
CREATE TABLE IF NOT EXISTS outbox (
    id BIGSERIAL PRIMARY KEY, event_id VARCHAR(36) NOT NULL UNIQUE,
    ticket_id VARCHAR(64) NOT NULL, type VARCHAR(64) NOT NULL, body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL, published_at TIMESTAMPTZ);
CREATE INDEX IF NOT EXISTS ix_outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
"""
INSERT_TICKET = (
    "INSERT INTO tickets (id, channel, kind, category, urgency, title, description, address, "
    "citizen_name, citizen_phone, anonymous, status, received_at, updated_at) VALUES ({})"
)
INSERT_EVENT = "INSERT INTO outbox (event_id, ticket_id, type, body, created_at) VALUES ({})"


class CitizenIn(BaseModel):
    name: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    anonymous: bool = False


class TicketIn(BaseModel):
    channel: str = Field(max_length=32)
    kind: str = Field(max_length=16)
    category: str | None = Field(default=None, max_length=200)
    urgency: str = Field(default="ordinary", max_length=16)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=5000)
    address: str | None = Field(default=None, max_length=300)
    citizen: CitizenIn


class TicketOut(BaseModel):
    id: str
    status: str
    received_at: datetime


class Store(Protocol):
    async def accept(self, ticket: tuple[object, ...], event: tuple[object, ...]) -> None: ...
    async def close(self) -> None: ...


class SqliteStore:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection
        self.lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str) -> SqliteStore:
        connection = await aiosqlite.connect(path)
        for pragma in ("journal_mode=WAL", "busy_timeout=30000", "synchronous=NORMAL"):
            await connection.execute(f"PRAGMA {pragma}")
        await connection.executescript(SQLITE_SCHEMA)
        return cls(connection)

    async def accept(self, ticket: tuple[object, ...], event: tuple[object, ...]) -> None:
        as_text = tuple(v.isoformat() if isinstance(v, datetime) else v for v in ticket)
        event_text = tuple(v.isoformat() if isinstance(v, datetime) else v for v in event)
        async with self.lock:
            await self.connection.execute(INSERT_TICKET.format(", ".join("?" * 14)), as_text)
            await self.connection.execute(INSERT_EVENT.format(", ".join("?" * 5)), event_text)
            await self.connection.commit()

    async def close(self) -> None:
        await self.connection.close()


class PostgresStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, dsn: str) -> PostgresStore:
        pool = await asyncpg.create_pool(dsn, min_size=10, max_size=10)
        async with pool.acquire() as conn:
            await conn.execute(POSTGRES_SCHEMA)
        return cls(pool)

    async def accept(self, ticket: tuple[object, ...], event: tuple[object, ...]) -> None:
        ticket_sql = INSERT_TICKET.format(", ".join(f"${i}" for i in range(1, 15)))
        event_sql = INSERT_EVENT.format(", ".join(f"${i}" for i in range(1, 6)))
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(ticket_sql, *ticket)
            await conn.execute(event_sql, *event)

    async def close(self) -> None:
        await self.pool.close()


async def open_store(database: str) -> Store:
    if database.startswith("sqlite:///"):
        return await SqliteStore.open(database.removeprefix("sqlite:///"))
    if database.startswith(("postgresql://", "postgres://")):
        return await PostgresStore.open(database)
    raise ValueError(f"unsupported database URL {database!r}: sqlite:///PATH or postgresql://…")


def build_app(database: str) -> FastAPI:
    store: Store | None = None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal store
        store = await open_store(database)
        try:
            yield
        finally:
            await store.close()

    app = FastAPI(title="bench ceiling: bare accept", lifespan=lifespan)

    @app.post("/api/v1/tickets", status_code=201, response_model=TicketOut)
    async def accept(report: TicketIn) -> TicketOut:
        assert store is not None  # set by the lifespan before any request is served
        now = datetime.now(UTC)
        ticket_id = "T" + uuid.uuid4().hex[:20]
        citizen = report.citizen
        ticket = (
            ticket_id,
            report.channel,
            report.kind,
            report.category,
            report.urgency,
            report.title,
            report.description,
            report.address,
            citizen.name,
            citizen.phone,
            citizen.anonymous,
            "received",
            now,
            now,
        )
        event_id = str(uuid.uuid4())
        body = json.dumps(
            {
                "event_id": event_id,
                "type": "ticket.received",
                "ticket_id": ticket_id,
                "occurred_at": now.isoformat(),
                "payload": report.model_dump(mode="json"),
            },
            ensure_ascii=False,
        )
        await store.accept(ticket, (event_id, ticket_id, "ticket.received", body, now))
        return TicketOut(id=ticket_id, status="received", received_at=now)

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.ceiling")
    parser.add_argument("--database", required=True, help="sqlite:///PATH or postgresql://…")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # The same logging and server settings as services/__main__.py, so that what differs
    # between this and the platform is the endpoint's work, not the server's.
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(build_app(args.database), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
