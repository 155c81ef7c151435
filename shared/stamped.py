"""Reference data cached until it changes: a service's directory, taxonomy or calendar.

Every report or event reads such data (intake's gazetteer, sla's working calendar), and loading
it per request cost more than the work itself. It changes rarely, always through the owning
service's functions, which call `changed` in the same transaction (or, where many functions
edit it, `watch` marks it changed whenever a flush writes one of its models): that replaces the
data's stamp in the service's `<service>_stamps` table, so every process (and every replica)
reloads on its next read of the new stamp. A read costs one primary-key lookup, once per
transaction: a consumer's batch reads each stamp once, not once per event.
"""

from __future__ import annotations

import secrets
import weakref
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from sqlalchemy import Column, Integer, MetaData, String, Table, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from shared.db import insert_in

T = TypeVar("T")
# Where a session keeps the stamps its current transaction has read.
_READ = "stamps_read"


def stamps_table(metadata: MetaData, service: str) -> Table:
    """A service's stamps: one row per kind of cached data, its value replaced on each change."""
    return Table(
        f"{service}_stamps",
        metadata,
        Column("name", String(64), primary_key=True),
        Column("version", Integer, nullable=False),
    )


def _read_in(session: Session) -> dict[tuple[str, str], int | None]:
    """The stamps read in the session's current transaction (none before it begins)."""
    transaction = session.get_transaction()
    read = session.info.get(_READ)
    if transaction is None or read is None or read[0] is not transaction:
        read = (transaction, {})
        if transaction is not None:
            session.info[_READ] = read
    stamps: dict[tuple[str, str], int | None] = read[1]
    return stamps


class Stamped(Generic[T]):
    """`load`'s result, per database, as of the stamp named `name`."""

    def __init__(
        self, stamps: Table, name: str, load: Callable[[AsyncSession], Awaitable[T]]
    ) -> None:
        self.stamps = stamps
        self.name = name
        self.load = load
        self._read = select(stamps.c.version).where(stamps.c.name == name)
        # Per engine, not per URL: a test that re-creates a database gets a new engine.
        self._cached: weakref.WeakKeyDictionary[Engine, tuple[int | None, T]] = (
            weakref.WeakKeyDictionary()
        )

    async def get(self, session: AsyncSession) -> T:
        """The data as of the stamp this session reads. The stamp is read first, so what is
        cached is never older than the stamp it is cached under."""
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        stamp = await self._stamp(session)
        cached = self._cached.get(engine)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        value = await self.load(session)
        self._cached[engine] = (stamp, value)
        return value

    async def _stamp(self, session: AsyncSession) -> int | None:
        """The stamp as this transaction first read it: the same row all along, unless this
        transaction changes it (`_mark` forgets what was read)."""
        key = (self.stamps.name, self.name)
        read = _read_in(session.sync_session)
        if key not in read:
            stamp = await session.scalar(self._read)
            # Reading may be what began the transaction: remember under the one now open.
            _read_in(session.sync_session)[key] = stamp
            return stamp
        return read[key]

    async def changed(self, session: AsyncSession) -> None:
        """Mark the data changed, in the caller's transaction."""
        await session.run_sync(lambda sync: self._mark(sync))

    def watch(self, *models: type) -> None:
        """Mark the data changed in every flush that adds, changes or deletes one of `models`,
        so no editing function can forget to."""

        def after_flush(session: Session, _flush: UOWTransaction) -> None:
            # After the flush `new`, `dirty` and `deleted` still hold what it wrote.
            written = (*session.new, *session.dirty, *session.deleted)
            if any(isinstance(o, models) for o in written):
                self._mark(session)

        event.listen(Session, "after_flush", after_flush)

    def _mark(self, session: Session) -> None:
        session.info.pop(_READ, None)
        connection = session.connection()
        # A random stamp rather than a counter, so a re-created database never meets an old
        # cache under the same value. One upsert: two transactions marking the same data at
        # once (intake loading its taxonomy while it learns routing's areas) both found no
        # row and both inserted, and PostgreSQL refused the second.
        version = secrets.randbits(31)
        statement = insert_in(connection.dialect.name, self.stamps).values(
            name=self.name, version=version
        )
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=[self.stamps.c.name], set_={"version": statement.excluded.version}
            )
        )
