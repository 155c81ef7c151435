"""SQLite statements run in place on the loop's thread (shared.in_place), on real files."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import create_engine
from shared.in_place import offloaded


def _with_thread_id(engine: AsyncEngine) -> None:
    """`thread_id()` in SQL: which thread SQLite ran the statement on."""

    def register(dbapi_connection: object, _record: object) -> None:
        raw = dbapi_connection._connection._connection  # type: ignore[attr-defined]
        raw.create_function("thread_id", 0, threading.get_ident)

    event.listen(engine.sync_engine, "connect", register)


async def _locked_by_another_process(engine: AsyncEngine, path: Path) -> sqlite3.Connection:
    """Table `t` in the engine's file, and another process's connection (as a CLI would hold
    it) inside a write transaction on that file: the caller ends it."""
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))
    other = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


async def test_statements_run_on_the_loop_thread_unless_offloaded(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'in-place.db'}")
    _with_thread_id(engine)
    try:
        async with engine.connect() as conn:
            here = await conn.scalar(text("SELECT thread_id()"))
            with offloaded():
                there = await conn.scalar(text("SELECT thread_id()"))
            again = await conn.scalar(text("SELECT thread_id()"))
        assert here == again == threading.get_ident()
        assert there != threading.get_ident()
    finally:
        await engine.dispose()


async def test_the_loop_runs_other_work_between_statements(tmp_path: Path) -> None:
    """A long transaction (a consumer's batch) lets other tasks in between its statements."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fair.db'}")
    turns = 0

    async def other_work() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        task = asyncio.create_task(other_work())
        await asyncio.sleep(0)
        before = turns
        async with engine.begin() as conn:
            for n in range(100):
                await conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
        task.cancel()
        assert turns - before >= 100
    finally:
        await engine.dispose()


async def test_a_file_locked_by_another_process_is_waited_for_without_stopping_the_loop(
    tmp_path: Path,
) -> None:
    """Another writer (a CLI, a second replica) holds the file: the write waits for it on the
    worker thread and then succeeds, while the loop goes on with other work."""
    path = tmp_path / "busy.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        other = await _locked_by_another_process(engine, path)
        other.execute("INSERT INTO t VALUES (1)")
        release = threading.Timer(0.5, lambda: other.execute("COMMIT"))
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        release.start()
        try:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (2)"))
        finally:
            ticker.cancel()
            release.join()
            other.close()
        assert ticks >= 10  # the loop ran while the write waited for the lock (0.5 s)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT n FROM t ORDER BY n"))).scalars().all() == [
                1,
                2,
            ]
    finally:
        await engine.dispose()


async def test_a_caller_cancelled_while_waiting_for_the_lock_leaves_a_usable_engine(
    tmp_path: Path,
) -> None:
    """Shutdown cancels a request whose write waits on the worker thread for another process's
    lock: the rollback and close that follow queue behind that write instead of using the
    connection from the loop's thread at the same time (which crashed the process)."""
    path = tmp_path / "cancelled.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        other = await _locked_by_another_process(engine, path)

        async def write() -> None:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (1)"))

        waiting = asyncio.create_task(write())
        await asyncio.sleep(0.2)  # the INSERT is on the worker thread, waiting for the lock
        waiting.cancel()
        release = threading.Timer(0.3, lambda: other.execute("ROLLBACK"))
        release.start()
        try:
            try:
                await waiting
            except asyncio.CancelledError:
                pass
            await engine.dispose()  # closes the connection: after the write, on the thread
        finally:
            release.join()
            other.close()
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (2)"))
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT n FROM t"))).scalars().all() == [2]
    finally:
        await engine.dispose()
