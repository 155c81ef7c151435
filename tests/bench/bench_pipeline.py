"""pipeline: a sustained offered load; accept → dispatched / armed / counted, consumer lag, drain.

For each mode in `BENCH_PIPELINE_MODES` (default "embedded,distributed"; see realhttp.py):

1. The reference, intake accept alone: a fresh platform loaded by wrk (32 connections, a
   closed loop) for one `BENCH_SECONDS` window — the most tickets/s this platform accepts.
2. A second fresh platform offered `BENCH_PIPELINE_RATE` (default 200) tickets/s for
   `BENCH_PIPELINE_SECONDS` (default 60) by tests/bench/pacer.py in its own process: open loop,
   the demo city's tickets, a different citizen each, latency counted from when each request
   was due. Meanwhile every `BENCH_PIPELINE_POLL` (default 0.1) s this process reads, through
   tests/bench/observe.py (the services' own databases, read-only, and the bus), which
   accepted tickets have become dispatched (routing wrote the lead assignment), armed (sla
   wrote the lead's clock and timers) and counted (analytics wrote the ticket's fact), and
   each consumer's lag: events behind the bus head, and each outbox's unpublished events.
3. After the last request is answered: the drain, until every consumer is at the head, every
   outbox published and every accepted ticket seen at all three stages, bounded by
   `BENCH_PIPELINE_DRAIN_SECONDS` (default 120); what is left then is printed, not waited for.

Rows: the achieved accept rate beside the accept-alone ceiling (the offered rate in the note;
if it could not be sustained the achieved rate, the requests sent late and the answers' status
say so); the pacer's accept p50/p99 beside wrk's; accept → dispatched / armed / counted p50 and
p99, from the ticket's received_at (intake's stamp when it took the report, in its answer; the
same clock as this machine's) to the first poll that saw the row committed (so up to one poll
late), beside the HTTP accept latency itself; a ticket never seen is counted in the note, not
in the percentiles; each consumer's lag during the load (p99 of the samples) beside the bus
events published per second (the ratio is seconds of traffic behind), its lag when the load
stopped and the seconds it took to reach zero after it beside the load's length; peak RSS of
each process beside the accept-alone platform's.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.bench import realhttp
from tests.bench.figures import Figure
from tests.bench.loadgen import demo_bodies, next_first_phone, write_bodies
from tests.bench.observe import (
    CONSUMERS,
    STAGES,
    Backlog,
    DistributedWatch,
    EmbeddedWatch,
    Watch,
    percentile,
)
from tests.bench.servers import Served

RATE = float(os.environ.get("BENCH_PIPELINE_RATE", "200"))
SECONDS = float(os.environ.get("BENCH_PIPELINE_SECONDS", "60"))
POLL = float(os.environ.get("BENCH_PIPELINE_POLL", "0.1"))
DRAIN_SECONDS = float(os.environ.get("BENCH_PIPELINE_DRAIN_SECONDS", "120"))
REQUEST_TIMEOUT = 30.0
TARGET_P99_MS = 1000  # issue 10: p99 accept → armed ≤ 1 s at 200 tickets/s


@dataclass
class Run:
    """What one paced load showed."""

    # ticket → intake's received_at: the moment intake stamped it, on this machine's clock
    accepted: dict[str, float] = field(default_factory=dict)
    reached: dict[str, dict[str, float]] = field(
        default_factory=lambda: {stage: {} for stage in STAGES}
    )
    samples: list[tuple[float, Backlog]] = field(default_factory=list)
    load_start: float = 0.0
    load_end: float = 0.0
    drained_at: float | None = None
    drain_left: Backlog | None = None
    pacer: dict[str, Any] = field(default_factory=dict)
    # The last sample of each consumer still behind, for when it reached zero after the load.
    caught_up: dict[str, float] = field(default_factory=dict)

    def pending(self) -> dict[str, set[str]]:
        return {
            stage: {t for t in self.accepted if t not in self.reached[stage]} for stage in STAGES
        }


async def _watch(mode: str, served: Served) -> Watch:
    if mode == "embedded":
        assert served.data_dir is not None
        return EmbeddedWatch(served.data_dir)
    assert served.bootstrap is not None
    return await DistributedWatch.open(served.databases, served.bootstrap)


def _read_answers(path: Path, offset: int, run: Run) -> int:
    """The pacer's answers since `offset` (a byte position); the new position. A line still
    being written (no newline yet) is left for the next read."""
    with path.open("rb") as f:
        f.seek(offset)
        chunk = f.read()
    complete = chunk.rfind(b"\n") + 1
    for line in chunk[:complete].splitlines():
        answer = json.loads(line)
        if answer["id"]:
            run.accepted[answer["id"]] = answer["received"] or answer["done"]
    return offset + complete


async def _observe(watch: Watch, run: Run, now: float) -> Backlog:
    for stage, seen in (await watch.seen(run.pending())).items():
        run.reached[stage].update(seen)
    backlog = await watch.backlog()
    run.samples.append((now, backlog))
    return backlog


async def paced(mode: str, served: Served, workdir: Path) -> Run:
    """Offer the load, watch it, then watch the drain; every wait bounded."""
    run = Run()
    bodies, answers = workdir / "pipeline-bodies.jsonl", workdir / f"pipeline-{mode}.jsonl"
    write_bodies(bodies, demo_bodies())
    answers.write_text("")
    watch = await _watch(mode, served)
    try:
        await _observe(watch, run, time.time())  # the head before the load
        pacer = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.bench.pacer",
            served.url,
            f"--rate={RATE}",
            f"--seconds={SECONDS}",
            f"--bodies={bodies}",
            f"--out={answers}",
            f"--first-phone={next_first_phone()}",
            f"--timeout={REQUEST_TIMEOUT}",
            stdout=asyncio.subprocess.PIPE,
        )
        run.load_start = time.time()
        give_up = run.load_start + SECONDS + REQUEST_TIMEOUT + 30
        position = 0
        while pacer.returncode is None:
            if time.time() > give_up:
                pacer.kill()  # the pacer bounds its own waits; this is the backstop
            started = time.time()
            position = _read_answers(answers, position, run)
            await _observe(watch, run, started)
            try:
                await asyncio.wait_for(pacer.wait(), max(0.0, POLL - (time.time() - started)))
            except TimeoutError:
                pass
        stdout = (await pacer.communicate())[0].decode()
        run.load_end = time.time()
        _read_answers(answers, position, run)
        summary = [ln for ln in stdout.splitlines() if ln.startswith("PACER_JSON ")]
        run.pacer = json.loads(summary[-1].removeprefix("PACER_JSON ")) if summary else {}
        deadline = run.load_end + DRAIN_SECONDS
        while True:
            started = time.time()
            backlog = await _observe(watch, run, started)
            for name, lag in backlog.lag.items():
                if lag == 0:
                    run.caught_up.setdefault(name, started)
                else:
                    run.caught_up.pop(name, None)
            if backlog.empty and not any(run.pending().values()):
                run.drained_at = started
                break
            if started > deadline:
                run.drain_left = backlog
                break
            await asyncio.sleep(max(0.0, POLL - (time.time() - started)))
    finally:
        await watch.close()
    return run


def _lag_rows(mode: str, run: Run) -> list[Figure | str]:
    during = [b for t, b in run.samples if run.load_start <= t <= run.load_end]
    heads = [b.head for _, b in run.samples]
    load_seconds = max(run.load_end - run.load_start, 1e-9)
    published = [b.head for t, b in run.samples if t <= run.load_end]
    events_per_second = (max(published) - heads[0]) / load_seconds if published else 0.0
    at_end = next((b for t, b in run.samples if t >= run.load_end), run.samples[-1][1])
    rows: list[Figure | str] = []
    for name in CONSUMERS:
        lags = [b.lag.get(name, 0) for b in during]
        outbox = [b.outbox.get(name, 0) for b in during]
        note = (
            f"max {max(lags, default=0):,}, {at_end.lag.get(name, 0):,} when the load stopped; "
            f"outbox unpublished p99 {percentile(outbox, 99):,.0f}, max {max(outbox, default=0):,}"
        )
        rows.append(
            Figure(
                f"{mode} {name} lag during load p99",
                percentile(lags, 99),
                "events",
                events_per_second,
                note,
            )
        )
        reached = run.caught_up.get(name)
        if reached is not None:
            rows.append(
                Figure(
                    f"{mode} {name} back to zero after load",
                    max(0.0, reached - run.load_end),
                    "s",
                    load_seconds,
                )
            )
        else:
            rows.append(f"{mode} {name}: still behind {DRAIN_SECONDS:.0f} s after the load")
    return rows


def rows_of(mode: str, run: Run, reference: realhttp.CeilingRun) -> list[Figure | str]:
    p = run.pacer
    accept = reference.load
    rows: list[Figure | str] = []
    statuses = ", ".join(f"{s}: {n:,}" for s, n in sorted(p.get("statuses", {}).items()))
    rows.append(
        Figure(
            f"{mode} accepted at {RATE:.0f}/s offered",
            p.get("achieved_rate", 0.0),
            "tickets/s",
            accept.rate,
            f"offered {p.get('offered', 0):,}, sent {p.get('sent', 0):,} in "
            f"{p.get('offer_seconds', 0):.0f} s, answered {statuses}; sent late (client at its "
            f"in-flight bound) {p.get('sent_late', 0):,}",
        )
    )
    rows.append(Figure(f"{mode} accept p50 (from due)", p.get("p50_ms", 0.0), "ms", accept.p50_ms))
    rows.append(Figure(f"{mode} accept p99 (from due)", p.get("p99_ms", 0.0), "ms", accept.p99_ms))
    for stage in STAGES:
        waits = [
            (run.reached[stage][t] - received) * 1000
            for t, received in run.accepted.items()
            if t in run.reached[stage]
        ]
        missing = len(run.accepted) - len(waits)
        note = f"{len(waits):,} of {len(run.accepted):,} seen"
        if missing:
            note += f", {missing:,} never seen"
        if stage == "armed":
            note += f"; issue 10 target p99 ≤ {TARGET_P99_MS} ms"
        label = f"{mode} accept → {stage}"
        rows.append(Figure(f"{label} p50", percentile(waits, 50), "ms", p.get("p50_ms"), note))
        rows.append(Figure(f"{label} p99", percentile(waits, 99), "ms", p.get("p99_ms")))
    rows.extend(_lag_rows(mode, run))
    load_seconds = run.load_end - run.load_start
    if run.drained_at is not None:
        rows.append(
            Figure(
                f"{mode} all drained after load",
                run.drained_at - run.load_end,
                "s",
                load_seconds,
                "every consumer at the head, outboxes published, every ticket at every stage",
            )
        )
    else:
        left = run.drain_left
        assert left is not None
        pending = {s: len(ids) for s, ids in run.pending().items() if ids}
        rows.append(
            f"{mode}: not drained {DRAIN_SECONDS:.0f} s after the load; lag {left.lag}, "
            f"outbox {left.outbox}, tickets not yet seen {pending}"
        )
    return rows


def memory_rows(
    mode: str, served: Served, reference: realhttp.CeilingRun, run: Run
) -> list[Figure]:
    rows = realhttp.platform_memory_rows(mode, served, reference.peak_rss_mb)
    if run.pacer.get("peak_rss_mb"):
        rows.append(Figure(f"{mode} peak RSS: pacer (client)", run.pacer["peak_rss_mb"], "MB"))
    return rows


async def rows() -> AsyncIterator[Figure | str]:
    with realhttp.workdir("pipeline") as workdir:
        for mode in realhttp.modes("BENCH_PIPELINE_MODES", "embedded,distributed"):
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
            async with realhttp.PLATFORMS[mode](workdir) as served:
                run = await paced(mode, served, workdir)
                for row in rows_of(mode, run, reference):
                    yield row
                for row in memory_rows(mode, served, reference, run):
                    yield row
