"""growth: intake accept rate with 0, 100,000 and 1,000,000 old tickets already stored.

The stored tickets are written by the bulk loader (tests/bench/bulkload.py, documented there):
the demo city's 36 tickets are played through their whole lives once on a fresh embedded
platform, and every row the five services wrote for them is the template that N synthetic
closed tickets copy, spread over the past `BENCH_GROWTH_MONTHS` (default 6) months — intake's
tickets, timeline, outbox and inbox, routing's, sla's, callback's and analytics' rows for them,
analytics' aggregates summed. Each size in `BENCH_GROWTH_SIZES` (default "0,100000,1000000",
ascending; 0 is the template store itself, 36 closed tickets) gets its own copy of the template
store, loaded while no platform runs. Then, in each of `BENCH_GROWTH_ROUNDS` (default 3)
rounds, the embedded platform (`python -m services`) runs on each store in turn, loaded by wrk
(32 connections, the demo city's tickets from new citizens) for `BENCH_GROWTH_WINDOWS`
(default 2) windows of `BENCH_SECONDS` (default 15) s: the first starts on cold caches (the
platform just started), the second shows the rate once they are warm. The stores take turns
because the machine is shared: a neighbour's load that comes and goes falls on every store of
a round alike, where one store measured minutes after another met other neighbours.

Each window's tickets/s, p50 and p99 are printed beside the same window on the smallest store
in the same round (0 stored by default): the ratio is what the stored tickets cost; the last
rows give each size's median ratio over the rounds, window by window, and its peak RSS beside
the smallest store's. A size that would not fit on the disk (about 32 kB a ticket; 1M is
~32 GB) is skipped with the reason; the stores' SQLite files are removed at the end (their
logs stay with `BENCH_WORKDIR`). Embedded only: the loader writes SQLite.
`BENCH_LOADED_STORE` names a store kept from an earlier load, copied instead of loading anew
(`bulkload.prepare_store`).
"""

from __future__ import annotations

import os
import shutil
import statistics
from collections.abc import AsyncIterator
from pathlib import Path

from tests.bench import bulkload, realhttp, servers
from tests.bench.figures import Figure
from tests.bench.loadgen import Load, demo_bodies, post_tickets

SIZES = sorted(
    int(s) for s in os.environ.get("BENCH_GROWTH_SIZES", "0,100000,1000000").split(",") if s.strip()
)
ROUNDS = int(os.environ.get("BENCH_GROWTH_ROUNDS", "3"))
WINDOWS = int(os.environ.get("BENCH_GROWTH_WINDOWS", "2"))
MONTHS = int(os.environ.get("BENCH_GROWTH_MONTHS", "6"))


async def rows() -> AsyncIterator[Figure | str]:
    bodies = demo_bodies()
    seconds = realhttp.SECONDS
    with realhttp.workdir("growth") as workdir:
        base = await bulkload.capture(workdir / "templates")
        yield f"templates: {base} (the demo city's 36 tickets, played to closed)"
        stores: dict[int, Path] = {}
        try:
            for size in SIZES:
                why = bulkload.room_for(workdir, size)
                if why:
                    yield f"{size:,} stored: skipped, {why}"
                    continue
                stores[size] = workdir / f"growth-{size}"
                yield await bulkload.prepare_store(base, stores[size], size, MONTHS)
            if not stores:
                return
            smallest = min(stores)
            yield f"{smallest:,} stored is the ceiling of the rows below it, round by round"
            ratios: dict[int, list[list[float]]] = {size: [] for size in stores}
            peaks: dict[int, float] = dict.fromkeys(stores, 0.0)
            for round_ in range(1, ROUNDS + 1):
                reference: list[Load] = []
                for size, store in stores.items():
                    async with servers.embedded(workdir, store) as served:
                        loads = [
                            await post_tickets(served.url, bodies, seconds=seconds)
                            for _ in range(WINDOWS)
                        ]
                        (peak,) = served.peak_rss_mb().values()
                    peaks[size] = max(peaks[size], peak)
                    reference = reference or loads
                    ratios[size].append(
                        [a.rate / b.rate for a, b in zip(loads, reference, strict=True)]
                    )
                    for n, load in enumerate(loads):
                        span = f"{n * seconds}–{(n + 1) * seconds} s"
                        label = f"round {round_}, {size:,} stored {span}"
                        for row in realhttp.load_rows(label, load, reference[n]):
                            yield row
            for size in stores:
                for n in range(WINDOWS):
                    each = [r[n] for r in ratios[size]]
                    span = f"{n * seconds}–{(n + 1) * seconds} s"
                    yield Figure(
                        f"{size:,} stored {span}: median over rounds",
                        100 * statistics.median(each),
                        "% of it",
                        note="rounds: " + ", ".join(f"{r:.2f}" for r in each),
                    )
                yield Figure(
                    f"{size:,} stored peak RSS: platform", peaks[size], "MB", peaks[smallest]
                )
        finally:
            for store in stores.values():
                # Gigabytes per hundred thousand tickets: the logs stay, the stores go.
                for path in store.glob("*.db*"):
                    path.unlink()
            shutil.rmtree(base, ignore_errors=True)
