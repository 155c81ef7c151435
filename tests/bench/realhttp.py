"""What the real-HTTP benches (bench_accept, bench_storm, bench_pipeline, bench_growth,
bench_lifecycle) share: the platform modes with the ceiling each is measured against, intake
accept alone on a fresh platform (the reference of the pipeline and lifecycle benches), and
the rows for a ceiling, a load and memory.

- embedded: `python -m services` (SQLite, in-process bus) vs the bare endpoint on SQLite
  through one aiosqlite connection;
- distributed: intake of the `make up` stack (PostgreSQL + broker, a process per service) vs
  the bare endpoint on PostgreSQL through an asyncpg pool;
- intake: `python -m services intake`, intake alone on SQLite without the consumers (what
  accept itself costs), vs the bare endpoint on SQLite; asked for by name, not by default.

`BENCH_SECONDS` (default 15) is the length of each measuring window and of each ceiling's run.
The servers' data and logs go to a temporary directory removed afterwards, or, when
`BENCH_WORKDIR` is set, to a new directory under it that is kept (to read why requests failed).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from pathlib import Path

from tests.bench import servers
from tests.bench.figures import Figure
from tests.bench.loadgen import Load, demo_bodies, post_tickets
from tests.bench.servers import Ceiling, Served

SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))

PLATFORMS: dict[str, Callable[[Path], AbstractAsyncContextManager[Served]]] = {
    "embedded": servers.embedded,
    "distributed": servers.distributed,
    "intake": servers.intake_alone,
}
CEILINGS: dict[str, Ceiling] = {
    "embedded": "sqlite",
    "distributed": "postgresql",
    "intake": "sqlite",
}
CEILING_TEXT = {
    "sqlite": "ceiling: bare accept, SQLite (1 aiosqlite conn)",
    "postgresql": "ceiling: bare accept, PostgreSQL (asyncpg pool)",
}


def modes(variable: str, default: str) -> list[str]:
    chosen = [m.strip() for m in os.environ.get(variable, default).split(",") if m.strip()]
    unknown = [m for m in chosen if m not in PLATFORMS]
    if unknown:
        raise SystemExit(
            f"{variable}: unknown mode {', '.join(unknown)}; use {', '.join(PLATFORMS)}"
        )
    return chosen


@contextmanager
def workdir(bench: str) -> Iterator[Path]:
    kept = os.environ.get("BENCH_WORKDIR")
    if kept:
        path = Path(kept).resolve() / f"{bench}-{time.strftime('%Y%m%d-%H%M%S')}"
        path.mkdir(parents=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix=f"bench-{bench}-") as tmp:
        yield Path(tmp)


def missing(mode: str) -> str | None:
    """Why `mode` cannot run on this machine, or None."""
    if mode == "distributed":
        return servers.postgres_missing() or servers.broker_missing()
    return None


def latency_note(load: Load) -> str:
    return f"p50 {load.p50_ms:,.0f} ms, p99 {load.p99_ms:,.0f} ms; {load.describe()}"


class CeilingRun:
    """A ceiling measured once in this run: its load and its process's peak memory."""

    def __init__(self, kind: Ceiling, load: Load, peak_rss_mb: float) -> None:
        self.kind, self.load, self.peak_rss_mb = kind, load, peak_rss_mb

    def row(self) -> Figure:
        return Figure(
            CEILING_TEXT[self.kind], self.load.rate, "req/s", note=latency_note(self.load)
        )


async def measure_ceiling(mode: str, workdir: Path, bodies: list[str]) -> CeilingRun:
    kind = CEILINGS[mode]
    async with servers.ceiling(kind, workdir) as served:
        load = await post_tickets(served.url, bodies, seconds=SECONDS)
        (peak,) = served.peak_rss_mb().values()
    return CeilingRun(kind, load, peak)


def load_rows(label: str, load: Load, ceiling: Load) -> list[Figure]:
    """Accepted tickets/s, p50 and p99 of one window, each beside the ceiling's."""
    return [
        Figure(f"{label}: tickets/s", load.rate, "tickets/s", ceiling.rate, load.describe()),
        Figure(f"{label}: p50", load.p50_ms, "ms", ceiling.p50_ms),
        Figure(f"{label}: p99", load.p99_ms, "ms", ceiling.p99_ms),
    ]


def memory_rows(mode: str, served: Served, ceiling: CeilingRun) -> list[Figure]:
    """Peak RSS of each platform process beside the bare endpoint's process (the broker has
    no counterpart), and the sum when there are several."""
    peaks = served.peak_rss_mb()
    rows = [
        Figure(
            f"{mode} peak RSS: {name}",
            mb,
            "MB",
            None if name == "broker" else ceiling.peak_rss_mb,
        )
        for name, mb in peaks.items()
    ]
    if len(peaks) > 1:
        rows.append(
            Figure(f"{mode} peak RSS: all {len(peaks)} processes", sum(peaks.values()), "MB")
        )
    return rows


def platform_memory_rows(label: str, served: Served, reference_mb: float) -> list[Figure]:
    """Peak RSS of each platform process, and of all of them when there are several, beside
    a reference platform's peak (the sum of its processes) measured in the same run."""
    peaks = served.peak_rss_mb()
    if len(peaks) == 1:
        ((name, mb),) = peaks.items()
        return [Figure(f"{label} peak RSS: {name}", mb, "MB", reference_mb)]
    rows = [Figure(f"{label} peak RSS: {name}", mb, "MB") for name, mb in peaks.items()]
    rows.append(
        Figure(
            f"{label} peak RSS: all {len(peaks)} processes", sum(peaks.values()), "MB", reference_mb
        )
    )
    return rows


async def accept_alone(mode: str, workdir: Path) -> CeilingRun:
    """intake accept on a fresh platform under wrk, and that platform's peak memory (summed
    over its processes when distributed)."""
    async with PLATFORMS[mode](workdir) as served:
        load = await post_tickets(served.url, demo_bodies(), seconds=SECONDS)
        peak = sum(served.peak_rss_mb().values())
    return CeilingRun(CEILINGS[mode], load, peak)
