"""lifecycle: whole tickets per second, post → dispatch → sign → contact → reply → callback → closed.

Each lifecycle is one ticket driven through the public HTTP APIs as the roles would
(tests/bench/workflow.py: the gateway posts one of the demo city's tickets from a new citizen;
an operator's reads wait for routing's dispatch; each unit, assisting units first, signs,
contacts the citizen and replies; the callback operator waits for the callback task and
records a satisfied verdict; the ticket is read until it is closed). `BENCH_LIFECYCLE_
CONCURRENCY` (default 32) lifecycles run at once, each worker starting its next ticket when
its last one closed, for `BENCH_LIFECYCLE_SECONDS` (default 60); lifecycles that close in
that window after the first `BENCH_LIFECYCLE_WARMUP` (default 10) s count, the rate being
over the rest of the window (until the first lifecycles close, none can). A lifecycle that does not reach its next step within `BENCH_LIFECYCLE_
TIMEOUT` (default 60) s is abandoned and counted by the step it was stuck at.

Stores, `BENCH_LIFECYCLE_STORED` (default "0,1000000"): 0 is a fresh platform; N > 0 a store
with N old closed tickets written by tests/bench/bulkload.py (templates captured once in this
run, then copied; embedded only, as the loader writes SQLite files; `BENCH_LOADED_STORE`, a
store kept from an earlier load, is copied instead: `bulkload.prepare_store`). A size that
would not fit on the disk is skipped with the reason.

The reference, measured once per mode in the same run: intake accept alone, wrk's 32
connections on a fresh platform, in tickets/s; the ratio says what share of the accept rate
whole lifecycles reach. Rows: lifecycles/s, p50 and p99 of a lifecycle, each step's p50 in
the note, HTTP requests per lifecycle, and peak RSS of the platform's processes beside the
accept-alone platform's. For scale (not measured here): a published load test of a comparable
open-source complaint platform (Java microservices, Kafka, PostgreSQL, 16 vCPU) reached 37
lifecycles/s on an empty database and 6.3/s with 1M records; issue 10's target is ≥ 100/s at
1M stored on this 2-core machine.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services import demo
from tests.bench import bulkload, realhttp, servers
from tests.bench.figures import Figure
from tests.bench.loadgen import next_first_phone
from tests.bench.observe import percentile
from tests.bench.servers import Served
from tests.bench.workflow import Lifecycle, Stuck, Urls, Workflow

CONCURRENCY = int(os.environ.get("BENCH_LIFECYCLE_CONCURRENCY", "32"))
SECONDS = float(os.environ.get("BENCH_LIFECYCLE_SECONDS", "60"))
TIMEOUT = float(os.environ.get("BENCH_LIFECYCLE_TIMEOUT", "60"))
WARMUP = float(os.environ.get("BENCH_LIFECYCLE_WARMUP", "10"))
STORED = [
    int(s) for s in os.environ.get("BENCH_LIFECYCLE_STORED", "0,1000000").split(",") if s.strip()
]
STEPS = ("post", "dispatch", "handle", "callback", "closed")


@dataclass
class Window:
    """The lifecycles that closed after the warm-up and before the end of the window."""

    closed: list[Lifecycle] = field(default_factory=list)
    stuck: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.closed) / self.seconds if self.seconds else 0.0


async def drive(served: Served) -> Window:
    """CONCURRENCY workers, each running lifecycles back to back until the window ends."""
    samples = demo.city()["tickets"]
    first = next_first_phone()
    numbers = itertools.count()
    window = Window()
    urls = Urls(served.urls["intake"], served.urls["routing"], served.urls["callback"])
    limits = httpx.Limits(max_connections=CONCURRENCY * 2, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        flow = Workflow(client, urls, timeout=TIMEOUT)
        start = time.monotonic()
        # The first lifecycles close after a whole lifecycle's time with nothing closing
        # before; counting from the warm-up on measures the steady state.
        counted_from, end = start + min(WARMUP, SECONDS / 2), start + SECONDS

        async def worker() -> None:
            while time.monotonic() < end:
                n = next(numbers)
                citizen = {"name": "市民", "phone": f"13{(first + n) % 10**9:09d}"}
                run = Lifecycle()
                try:
                    await flow.lifecycle({**samples[n % len(samples)], "citizen": citizen}, run)
                except Stuck as exc:
                    window.stuck[exc.step] = window.stuck.get(exc.step, 0) + 1
                    await asyncio.sleep(0.1)  # a platform failing at once must not be spun on
                    continue
                if counted_from <= time.monotonic() <= end:
                    window.closed.append(run)

        # Each lifecycle is bounded by TIMEOUT, so the workers end by SECONDS + TIMEOUT.
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        window.seconds = end - counted_from
    return window


def window_rows(label: str, window: Window, reference: float) -> list[Figure | str]:
    closed = window.closed
    seconds = [r.seconds * 1000 for r in closed]
    steps = ", ".join(
        f"{s} {percentile([r.step_seconds.get(s, 0.0) * 1000 for r in closed], 50):,.0f}"
        for s in STEPS
    )
    stuck = ", ".join(f"{s}: {n:,}" for s, n in sorted(window.stuck.items()))
    requests = sum(r.requests for r in closed) / len(closed) if closed else 0.0
    note = (
        f"{len(closed):,} closed in {window.seconds:.0f} s after a {min(WARMUP, SECONDS / 2):.0f} s "
        f"warm-up, {CONCURRENCY} at once"
    )
    if stuck:
        note += f"; abandoned at {stuck}"
    return [
        Figure(f"{label}: lifecycles/s", window.rate, "tickets/s", reference, note),
        Figure(
            f"{label}: lifecycle p50", percentile(seconds, 50), "ms", note=f"steps p50 ms: {steps}"
        ),
        Figure(f"{label}: lifecycle p99", percentile(seconds, 99), "ms"),
        Figure(
            f"{label}: HTTP requests per lifecycle", requests, "requests", note="polls included"
        ),
    ]


async def rows() -> AsyncIterator[Figure | str]:
    with realhttp.workdir("lifecycle") as workdir:
        for mode in realhttp.modes("BENCH_LIFECYCLE_MODES", "embedded,distributed"):
            reason = realhttp.missing(mode)
            if reason:
                yield f"{mode}: skipped, {reason}"
                continue
            reference = await realhttp.accept_alone(mode, workdir)
            yield Figure(
                f"{mode} reference: intake accept alone (wrk)",
                reference.load.rate,
                "tickets/s",
                note=realhttp.latency_note(reference.load),
            )
            base: Path | None = None
            for stored in STORED:
                label = f"{mode} {stored:,} stored"
                if stored == 0:
                    async with realhttp.PLATFORMS[mode](workdir) as served:
                        window = await drive(served)
                        for row in window_rows(label, window, reference.load.rate):
                            yield row
                        for row in realhttp.platform_memory_rows(
                            label, served, reference.peak_rss_mb
                        ):
                            yield row
                    continue
                if mode != "distributed":
                    why = bulkload.room_for(workdir, stored)
                else:
                    why = "the bulk loader writes the embedded platform's SQLite files"
                if why:
                    yield f"{label}: skipped, {why}"
                    continue
                if base is None:
                    base = await bulkload.capture(workdir / "templates")
                store = workdir / f"lifecycle-{stored}"
                yield await bulkload.prepare_store(base, store, stored)
                try:
                    async with servers.embedded(workdir, store) as served:
                        window = await drive(served)
                        for row in window_rows(label, window, reference.load.rate):
                            yield row
                        for row in realhttp.platform_memory_rows(
                            label, served, reference.peak_rss_mb
                        ):
                            yield row
                finally:
                    # Gigabytes per hundred thousand tickets: the log stays, the store goes.
                    for path in store.glob("*.db*"):
                        path.unlink()
            if base is not None:
                shutil.rmtree(base, ignore_errors=True)
