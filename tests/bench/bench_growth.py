"""growth: intake accept rate with 0, 100,000 and 1,000,000 old tickets already stored.

The stored tickets are written by the bulk loader (tests/bench/bulkload.py, documented there):
the demo city's 36 tickets are played through their whole lives once on a fresh embedded
platform, and every row the five services wrote for them is the template that N synthetic
closed tickets copy, spread over the past `BENCH_GROWTH_MONTHS` (default 6) months — intake's
tickets, timeline, outbox and inbox, routing's, sla's, callback's and analytics' rows for them,
analytics' aggregates summed. Each size in `BENCH_GROWTH_SIZES` (default "0,100000,1000000",
ascending; 0 is the template store itself, 36 closed tickets) gets its own copy of the template
store, loaded while no platform runs, and then the embedded platform (`python -m services`)
on it, loaded by wrk (32 connections, the demo city's tickets from new citizens) for
`BENCH_GROWTH_WINDOWS` (default 2) windows of `BENCH_SECONDS` (default 15) s: the first
starts on cold caches (the platform just started), the second shows the rate once they are
warm.

Each window's tickets/s, p50 and p99 are printed beside the same window on the smallest store
of the run (0 stored by default): the ratio is what the stored tickets cost. Then the peak RSS
of the platform beside the smallest store's. A size that would not fit on the disk (about 32 kB
a ticket; 1M is ~32 GB) is skipped with the reason; each store's SQLite files are removed after
its windows (its log stays with `BENCH_WORKDIR`). Embedded only: the loader writes SQLite.
`BENCH_LOADED_STORE` names a store kept from an earlier load, copied instead of loading anew
(`bulkload.prepare_store`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

from tests.bench import bulkload, realhttp, servers
from tests.bench.figures import Figure
from tests.bench.loadgen import Load, demo_bodies, post_tickets

SIZES = sorted(
    int(s) for s in os.environ.get("BENCH_GROWTH_SIZES", "0,100000,1000000").split(",") if s.strip()
)
WINDOWS = int(os.environ.get("BENCH_GROWTH_WINDOWS", "2"))
MONTHS = int(os.environ.get("BENCH_GROWTH_MONTHS", "6"))


async def rows() -> AsyncIterator[Figure | str]:
    bodies = demo_bodies()
    seconds = realhttp.SECONDS
    with realhttp.workdir("growth") as workdir:
        base = await bulkload.capture(workdir / "templates")
        yield f"templates: {base} (the demo city's 36 tickets, played to closed)"
        reference: list[Load] = []
        reference_mb = 0.0
        reference_size = 0
        try:
            for size in SIZES:
                why = bulkload.room_for(workdir, size)
                if why:
                    yield f"{size:,} stored: skipped, {why}"
                    continue
                store = workdir / f"growth-{size}"
                try:
                    yield await bulkload.prepare_store(base, store, size, MONTHS)
                    async with servers.embedded(workdir, store) as served:
                        loads = [
                            await post_tickets(served.url, bodies, seconds=seconds)
                            for _ in range(WINDOWS)
                        ]
                        (peak,) = served.peak_rss_mb().values()
                finally:
                    # Gigabytes per hundred thousand tickets: the log stays, the store goes.
                    for path in store.glob("*.db*"):
                        path.unlink()
                if not reference:
                    reference, reference_mb, reference_size = loads, peak, size
                if size == reference_size:
                    yield f"{size:,} stored is the ceiling of the rows below it"
                for n, load in enumerate(loads):
                    span = f"{n * seconds}–{(n + 1) * seconds} s"
                    for row in realhttp.load_rows(f"{size:,} stored {span}", load, reference[n]):
                        yield row
                yield Figure(f"{size:,} stored peak RSS: platform", peak, "MB", reference_mb)
        finally:
            shutil.rmtree(base, ignore_errors=True)
