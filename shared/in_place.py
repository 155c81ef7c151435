"""SQLite statements run in place, on the event loop's own thread, not handed to a worker thread.

aiosqlite runs every call (cursor, execute, fetch, close, commit) on a thread of its own and
wakes the event loop with the result: about 45 µs of hand-off per call and four calls per
statement, where SQLite itself answers one of our indexed statements in a few µs. Measured on
this machine (a one-row SELECT by primary key through an AsyncSession; docs/performance.md):
200 µs a statement through the thread, 50 µs run in place; and under load the embedded
platform's loop sat idle a fifth of the time waiting for the thread.

So a file database's connection runs each call where it is made, then lets the loop's other
work in, as the hand-off did (else a consumer's batch of hundreds of statements ran start to
finish while requests waited). That is safe because of how the embedded platform uses SQLite:
one connection per file (shared.db), so no statement of this process waits for another of its
own, and WAL, so readers never wait for a writer. What would stop the loop goes to the worker
thread, as aiosqlite would send it:

- a statement that finds the file locked by another process (a CLI, a second replica): in
  place the busy timeout is zero, and a busy answer is tried again on the thread with the
  usual timeout; until that call is done every call of the connection follows it there;
- a read its caller knows to be long marks itself `offloaded()` (intake's retraining reads
  months of tickets). Reports and rankings read analytics' aggregates, a few hundred rows, and
  stay in place; a rebuild runs as its own command.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from functools import partial
from typing import Any

import aiosqlite

# How long a statement run on the worker thread waits for another process's lock.
BUSY_TIMEOUT_MS = 30_000

_offloaded: ContextVar[bool] = ContextVar("sqlite_offloaded", default=False)


@contextlib.contextmanager
def offloaded() -> Iterator[None]:
    """Run this block's SQLite statements on the connection's worker thread: for work long
    enough that stopping the event loop for it would stall every request meanwhile."""
    token = _offloaded.set(True)
    try:
        yield
    finally:
        _offloaded.reset(token)


class InPlaceConnection(aiosqlite.Connection):
    """aiosqlite's connection, running each call on the calling thread (see the module)."""

    # Calls sent to the worker thread and not finished there. While any is, every call goes
    # to the thread too, queued behind it: a call made in place meanwhile (a cancelled
    # caller's rollback or close) would use the sqlite3 connection from two threads at once.
    _on_worker = 0

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        call = partial(fn, *args, **kwargs)
        if self._on_worker or _offloaded.get():
            return await self._on_thread(call)
        try:
            result = call()
        except sqlite3.OperationalError as error:
            # SQLITE_BUSY comes before anything is done: the call can be made again. (An
            # error the module raises itself has no code.)
            if getattr(error, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_BUSY:
                raise
        else:
            # Let the loop's other work in between calls, as the hand-off to the thread did:
            # without it a consumer's batch ran start to finish while requests waited (p99 of
            # accept 2.6–4.3 s against 0.9–1.0 s with it, at the same throughput).
            await asyncio.sleep(0)
            return result
        return await self._on_thread(call)

    async def _on_thread(self, call: Callable[[], Any]) -> Any:
        """`call` on the worker thread. A caller cancelled meanwhile stops waiting, but the
        call is still counted until the thread has finished it (the shield)."""
        assert self._connection is not None
        self._on_worker += 1
        job = asyncio.ensure_future(super()._execute(_patiently, self._connection, call))
        job.add_done_callback(self._finished_on_worker)
        return await asyncio.shield(job)

    def _finished_on_worker(self, job: asyncio.Future[Any]) -> None:
        self._on_worker -= 1
        if not job.cancelled():
            job.exception()  # a cancelled caller's error is its own: not logged as lost


def _patiently(connection: sqlite3.Connection, call: Callable[[], Any]) -> Any:
    """`call` on the worker thread, waiting for another process's lock as long as the usual
    busy timeout allows; run in place, the connection does not wait at all."""
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    try:
        return call()
    finally:
        # The call may have closed the connection (close() itself comes here while others
        # are on the thread): then there is no timeout left to reset.
        with contextlib.suppress(sqlite3.ProgrammingError):
            connection.execute("PRAGMA busy_timeout=0")


def connector(path: str) -> Callable[[], Any]:
    """`async_creator` for SQLAlchemy's aiosqlite dialect: a connection to the file at `path`
    that runs in place, usable from the loop's thread though opened on the worker's."""

    async def connect() -> aiosqlite.Connection:
        opened = partial(sqlite3.connect, path, timeout=0, check_same_thread=False)
        connection = InPlaceConnection(opened, iter_chunk_size=64)
        connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own
        return await connection

    return connect
