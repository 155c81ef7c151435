"""5,000 reports of one matter at one place, then a mixed stream, per 1,000 reports.

After a storm, a water cut or a heat wave thousands of citizens report the same matter within
the hour; intake groups them (same matter, same place: a cluster), and accepting must not slow
down as the cluster grows. Over real HTTP (wrk, 32 connections, a different citizen's phone on
each request), against a fresh platform:

- the storm: `BENCH_STORM_REPORTS` (default 5,000) reports of the demo city's burst water main
  at 港湾社区门口 (same category, same address, near-identical words; loadgen.storm_bodies);
- then the mixed stream: `BENCH_STORM_MIXED` (default 2,000) of the demo city's tickets.

Both go in blocks of `BENCH_STORM_BLOCK` (default 1,000) reports, each wrk run stopping after
its block's responses, so each row is the accept rate over one block: a fall from row to row
is the cost of the growing cluster (or of all tickets stored). A block that does not finish
within `BENCH_STORM_BLOCK_SECONDS` (default 120) is cut there (its row says how far it got),
so a quadratic cost cannot hold the bench for hours. Block boundaries are counted by the
client: up to 31 requests in flight when a block stops are abandoned by wrk but still reach
the server. Each rate is beside the bare endpoint's ceiling for the storm's bodies (same run,
one `BENCH_SECONDS` window); p50/p99 per block are in the note. Modes in `BENCH_STORM_MODES`
(default "embedded"; "embedded,distributed" for both).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from tests.bench import realhttp
from tests.bench.figures import Figure
from tests.bench.loadgen import demo_bodies, post_tickets, storm_bodies
from tests.bench.servers import Served

REPORTS = int(os.environ.get("BENCH_STORM_REPORTS", "5000"))
MIXED = int(os.environ.get("BENCH_STORM_MIXED", "2000"))
BLOCK = int(os.environ.get("BENCH_STORM_BLOCK", "1000"))
BLOCK_SECONDS = int(os.environ.get("BENCH_STORM_BLOCK_SECONDS", "120"))


async def blocks(
    mode: str, stream: str, served: Served, bodies: list[str], total: int, ceiling: float
) -> AsyncIterator[Figure]:
    """`total` reports in blocks of BLOCK, one row per block; a cut block is not made up for,
    so the number of wrk runs (and the time) stays bounded."""
    reported = 0
    for start in range(0, total, BLOCK):
        size = min(BLOCK, total - start)
        load = await post_tickets(served.url, bodies, seconds=BLOCK_SECONDS, stop_after=size)
        note = realhttp.latency_note(load)
        if load.requests < size:
            note += f"; cut at {BLOCK_SECONDS} s, {load.requests:,} of {size:,}"
        span = f"{reported + 1:,}–{reported + load.requests:,}"
        yield Figure(f"{mode} {stream} {span}: tickets/s", load.rate, "tickets/s", ceiling, note)
        reported += load.requests


async def rows() -> AsyncIterator[Figure | str]:
    storm, mixed = storm_bodies(), demo_bodies()
    with realhttp.workdir("storm") as workdir:
        for mode in realhttp.modes("BENCH_STORM_MODES", "embedded"):
            reason = realhttp.missing(mode)
            if reason:
                yield f"{mode}: skipped, {reason}"
                continue
            ceiling = await realhttp.measure_ceiling(mode, workdir, storm)
            yield ceiling.row()
            async with realhttp.PLATFORMS[mode](workdir) as served:
                async for row in blocks(mode, "storm", served, storm, REPORTS, ceiling.load.rate):
                    yield row
                async for row in blocks(mode, "mixed", served, mixed, MIXED, ceiling.load.rate):
                    yield row
                for row in realhttp.memory_rows(mode, served, ceiling):
                    yield row
