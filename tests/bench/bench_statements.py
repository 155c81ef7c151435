"""SQL statements per accepted ticket, by service: what each report costs the whole pipeline.

The real-HTTP benches say how fast; this one says why, and what each ticket costs in CPU. On SQLite through SQLAlchemy's async
engine a statement costs far more in the event loop (ORM, a hand-off to the connection's thread
and back) than in SQLite, so the statements each ticket brings, in intake and in the four
consumers, bound what one embedded process carries (docs/performance.md).

The five services run embedded in this process on fresh SQLite files with the demo city's
directory; `BENCH_STATEMENT_TICKETS` (default 320) demo tickets are posted through the ASGI app,
32 at a time as the gateway's connections would, and the bench waits until every outbox is
published and every consumer has caught up. Counted with SQLAlchemy's `before_cursor_execute`
on each service's engine (an `executemany` counts once). Rows: the process CPU time per ticket
from the first post until the pipeline settled, beside the bare endpoint's
(tests/bench/ceiling.py, the same tickets posted the same way in the same process); statements
per ticket for each service beside the ceiling's two (a ticket row and an outbox row); then the
most frequent statements.
"""

from __future__ import annotations

import asyncio
import collections
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from services import SERVICE_NAMES
from services.bootstrap import build_app
from shared.settings import PlatformSettings
from tests.bench import ceiling
from tests.bench.figures import Figure
from tests.bench.loadgen import PHONE, TICKETS_PATH, demo_bodies
from tests.bench.servers import _load_directory
from tests.support import GATEWAY

TICKETS = int(os.environ.get("BENCH_STATEMENT_TICKETS", "320"))
AT_ONCE = 32
SETTLE_SECONDS = 120.0
CEILING_STATEMENTS = 2  # the bare endpoint: one ticket row, one outbox row
TOP = 15


def _shape(statement: str) -> str:
    """A statement's first words, enough to tell which table and what."""
    return " ".join(statement.split()[:6])[:90]


async def _settled(app: Any) -> None:
    """Wait until every outbox is published and every consumer has nothing left."""
    runtimes, bus = app.state.runtimes, app.state.bus
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        backlogs = [(await r.outbox_backlog())[0] for r in runtimes.values()]
        lags = [(await bus.lag(c)).behind for c in bus.consumers()]
        if not any(backlogs) and not any(lags):
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the pipeline did not settle within {SETTLE_SECONDS:.0f}s")


async def _post_all(app: Any, bodies: list[str]) -> None:
    """Post TICKETS demo tickets through the ASGI app, AT_ONCE at a time."""
    transport = httpx.ASGITransport(app=app)
    headers = {**GATEWAY, "Content-Type": "application/json"}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def post(n: int) -> None:
            body = bodies[n % len(bodies)].replace(PHONE, f"13{600_000_000 + n:09d}")
            answer = await client.post(TICKETS_PATH, content=body, headers=headers)
            answer.raise_for_status()

        for start in range(0, TICKETS, AT_ONCE):
            await asyncio.gather(*(post(n) for n in range(start, start + AT_ONCE)))


async def _ceiling_cpu_ms(bodies: list[str], tmp: Path) -> float:
    """CPU milliseconds per ticket of the bare endpoint, posted to the same way."""
    app = ceiling.build_app(f"sqlite:///{tmp / 'ceiling.db'}")
    async with app.router.lifespan_context(app):
        started = time.process_time()
        await _post_all(app, bodies)
        return 1000 * (time.process_time() - started) / TICKETS


async def rows() -> list[Figure | str]:
    by_service: collections.Counter[str] = collections.Counter()
    by_shape: collections.Counter[tuple[str, str]] = collections.Counter()
    bodies = demo_bodies()
    with tempfile.TemporaryDirectory(prefix="bench-statements-") as tmp:
        ceiling_ms = await _ceiling_cpu_ms(bodies, Path(tmp))
        data_dir = Path(tmp)
        await _load_directory(data_dir)
        platform = PlatformSettings(data_dir=data_dir, load_demo=False, kafka_bootstrap=None)
        app = build_app(tuple(SERVICE_NAMES), platform=platform)
        async with app.router.lifespan_context(app):
            for name, runtime in app.state.runtimes.items():

                def count(*args: Any, name: str = name) -> None:
                    by_service[name] += 1
                    by_shape[(name, _shape(args[2]))] += 1

                event.listen(runtime.engine.sync_engine, "before_cursor_execute", count)
            started = time.process_time()
            await _post_all(app, bodies)
            await _settled(app)
            cpu_ms = 1000 * (time.process_time() - started) / TICKETS
    total = sum(by_service.values())
    out: list[Figure | str] = [
        Figure("CPU per ticket, the five services until settled", cpu_ms, "ms", ceiling_ms),
        Figure(
            f"all services: statements per ticket ({TICKETS} tickets)",
            total / TICKETS,
            "stmts",
            CEILING_STATEMENTS,
        ),
    ]
    out += [
        Figure(f"{name}: statements per ticket", count / TICKETS, "stmts", CEILING_STATEMENTS)
        for name, count in by_service.most_common()
    ]
    out.append("most frequent (per ticket):")
    out += [
        f"  {count / TICKETS:6.2f}  {name:<9} {shape}"
        for (name, shape), count in by_shape.most_common(TOP)
    ]
    return out
