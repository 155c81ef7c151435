"""Reference data cached until its stamp changes (shared.stamped), on a real SQLite file."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import Column, Integer, String, Table, event, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import create_engine, new_metadata
from shared.stamped import Stamped, stamps_table
from tests.support import require_postgres

metadata = new_metadata()
stamps = stamps_table(metadata, "test")
numbers = Table("test_numbers", metadata, Column("n", Integer, primary_key=True))
loads: list[int] = []


async def _load(session: AsyncSession) -> frozenset[int]:
    loads.append(1)
    return frozenset((await session.scalars(select(numbers.c.n))).all())


cached = Stamped(stamps, "numbers", _load)


async def test_loaded_once_until_changed_and_changes_by_another_process_are_seen(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'stamped.db'}"
    here, there = create_engine(url), create_engine(url)  # two replicas of one service
    async with here.begin() as conn:
        await conn.run_sync(metadata.create_all)
    mine, theirs = async_sessionmaker(here), async_sessionmaker(there)
    loads.clear()
    try:
        for _ in range(3):
            async with mine() as session:
                assert await cached.get(session) == frozenset()
        assert len(loads) == 1

        # Written without marking the change: the cache does not see it (why writers mark it).
        async with theirs() as session, session.begin():
            await session.execute(insert(numbers).values(n=1))
        async with mine() as session:
            assert await cached.get(session) == frozenset()

        # Marked, then rolled back: the writer's own cache of what it saw is not kept.
        async with theirs() as session:
            async with session.begin():
                await session.execute(insert(numbers).values(n=2))
                await cached.changed(session)
                assert await cached.get(session) == {1, 2}
                await session.rollback()
        async with theirs() as session:
            assert await cached.get(session) == {1}

        async with theirs() as session, session.begin():
            await session.execute(insert(numbers).values(n=3))
            await cached.changed(session)
        for sessions in (mine, theirs):
            async with sessions() as session:
                assert await cached.get(session) == {1, 3}
    finally:
        await here.dispose()
        await there.dispose()


async def test_the_stamp_is_read_once_per_transaction_and_again_in_the_next(
    tmp_path: Path,
) -> None:
    """A consumer's batch asks for the data once per event: one stamp read for the batch. The
    same session's next transaction reads it again, and sees another process's change."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'per-transaction.db'}"
    here, there = create_engine(url), create_engine(url)
    async with here.begin() as conn:
        await conn.run_sync(metadata.create_all)
    reads: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "test_stamps" in statement and statement.lstrip().startswith("SELECT"):
            reads.append(statement)

    event.listen(here.sync_engine, "before_cursor_execute", count)
    try:
        async with async_sessionmaker(here)() as session:
            async with session.begin():
                for _ in range(5):
                    assert await cached.get(session) == frozenset()
            assert len(reads) == 1
            async with async_sessionmaker(there)() as other, other.begin():
                await other.execute(insert(numbers).values(n=7))
                await cached.changed(other)
            async with session.begin():
                assert await cached.get(session) == {7}
                assert await cached.get(session) == {7}
            assert len(reads) == 2
            # This transaction's own change is seen within it.
            async with session.begin():
                await session.execute(insert(numbers).values(n=8))
                await cached.changed(session)
                assert await cached.get(session) == {7, 8}
    finally:
        await here.dispose()
        await there.dispose()


class Base(DeclarativeBase):
    metadata = metadata


class Word(Base):
    __tablename__ = "test_words"
    text: Mapped[str] = mapped_column(String(16), primary_key=True)


async def _words(session: AsyncSession) -> frozenset[str]:
    return frozenset((await session.scalars(select(Word.text))).all())


words = Stamped(stamps, "words", _words)
words.watch(Word)


async def test_a_flush_that_writes_a_watched_model_marks_the_change(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'watched.db'}"
    here, there = create_engine(url), create_engine(url)
    async with here.begin() as conn:
        await conn.run_sync(metadata.create_all)
    mine, theirs = async_sessionmaker(here), async_sessionmaker(there)
    try:
        async with mine() as session:
            assert await words.get(session) == frozenset()
        async with theirs() as session, session.begin():
            session.add(Word(text="占道"))
        async with mine() as session:
            assert await words.get(session) == {"占道"}
        async with theirs() as session, session.begin():
            await session.delete(await session.get(Word, "占道"))
        async with mine() as session:
            assert await words.get(session) == frozenset()
    finally:
        await here.dispose()
        await there.dispose()


@pytest.mark.postgres
async def test_two_transactions_marking_a_new_stamp_at_once_both_commit() -> None:
    """On PostgreSQL two writers may mark the same data before either committed (intake's
    taxonomy load and its area learning at start-up): the second must not hit the key."""
    require_postgres()
    name = f"hl_stamp_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        sessions = async_sessionmaker(engine)
        first_marked = asyncio.Event()

        async def mark(wait: bool) -> None:
            async with sessions() as session, session.begin():
                await cached.changed(session)
                first_marked.set()
                if wait:
                    await asyncio.sleep(0.3)  # hold the row until the other one tries

        await asyncio.gather(mark(wait=True), mark(wait=False))
        async with sessions() as session:
            assert len((await session.scalars(select(stamps.c.version))).all()) == 1
    finally:
        await engine.dispose()
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
