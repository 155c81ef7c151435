"""intake accept over real HTTP (wrk), embedded and distributed, beside same-run ceilings.

wrk keeps 32 connections posting the demo city's tickets, each from a different citizen; the
ceiling is a bare FastAPI endpoint writing the same two rows (tests/bench/ceiling.py).

For each mode in `BENCH_MODES` (default "embedded,distributed"; see tests/bench/realhttp.py):
the ceiling first (one window), then a fresh platform loaded for `BENCH_WINDOWS` (default 3)
consecutive windows of `BENCH_SECONDS` (default 15) s, so the rows show whether throughput
falls as tickets accumulate; each window gives accepted tickets/s, p50 and p99 beside the
ceiling's. Last, the peak RSS of the platform's processes after the load, beside the bare
endpoint's process. The distributed mode needs PostgreSQL at 127.0.0.1:5432 and the tansu
broker; without them it is skipped with the reason.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from tests.bench import realhttp
from tests.bench.figures import Figure
from tests.bench.loadgen import demo_bodies, post_tickets

WINDOWS = int(os.environ.get("BENCH_WINDOWS", "3"))


async def rows() -> AsyncIterator[Figure | str]:
    bodies = demo_bodies()
    seconds = realhttp.SECONDS
    with realhttp.workdir("accept") as workdir:
        for mode in realhttp.modes("BENCH_MODES", "embedded,distributed"):
            reason = realhttp.missing(mode)
            if reason:
                yield f"{mode}: skipped, {reason}"
                continue
            ceiling = await realhttp.measure_ceiling(mode, workdir, bodies)
            yield ceiling.row()
            async with realhttp.PLATFORMS[mode](workdir) as served:
                for window in range(WINDOWS):
                    load = await post_tickets(served.url, bodies, seconds=seconds)
                    label = f"{mode} {window * seconds}–{(window + 1) * seconds} s"
                    for row in realhttp.load_rows(label, load, ceiling.load):
                        yield row
                for row in realhttp.memory_rows(mode, served, ceiling):
                    yield row
