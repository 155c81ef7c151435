"""`make faults` (`python -m tests.faults`): fault drills on the distributed stack under a
steady load. docs/faults.md says what each drill does and what the run found.

The stack is services/stack.py's `LocalStack` on fresh databases (`hl_faults_*`), the broker
behind a TCP proxy the drill can cut (tests/distributed/proxy.py). A steady open-loop load posts
tickets through intake's public API, each from a different citizen, and plays one ticket in
`FAULTS_PLAY_EVERY` forward as the roles would (routing dispatches by itself; the units sign,
contact and reply through routing's API; the callback operator records the verdict through
callback's API), retrying each step through the faults. One scenario at a time, with the drain
and the audit (tests/faults/audit.py) between them:

    baseline          the load alone
    broker-pause      the broker SIGSTOPped for FAULTS_PAUSE_SECONDS, then SIGCONTinued
    broker-cut        the proxy cut for FAULTS_PAUSE_SECONDS (connections refused), restored
    kill-<service>    kill -9 of the service mid-stream, FAULTS_DOWN_SECONDS down, restarted
    postgres-restart  pg_ctlcluster restart of the (shared) PostgreSQL cluster
    poison            a poison event dead-lettered, the fix, then the documented replay

Settings (environment): FAULTS_SECONDS (load per scenario, 60), FAULTS_RATE (tickets/s, 20),
FAULTS_PAUSE_SECONDS (60), FAULTS_DOWN_SECONDS (5), FAULTS_PLAY_EVERY (4), FAULTS_DRAIN_TIMEOUT
(600), FAULTS_SCENARIOS (comma-separated, default all of the above in that order).

The broker (tansu) keeps its log in memory: it is never killed. Its end offsets are read before
and after every scenario; if any went backwards, or the broker process is gone, the drill says
BROKER LOG LOST and fails.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from services import SERVICE_NAMES, demo
from services.stack import LocalStack, free_port
from shared.auth import Role
from shared.deadletters import KafkaDeadLetters
from shared.settings import PlatformSettings
from tests.bench.loadgen import PHONE, _template
from tests.distributed.proxy import CuttableProxy
from tests.faults import poison
from tests.faults.audit import Auditor, Findings
from tests.support import GATEWAY, OPERATOR, bearer

TOPIC = "tickets.lifecycle"
REPLY = {"outcome": "solved", "explanation": "已现场核实并处理完毕，已电话告知诉求人处理结果。"}
VERDICT = {"contacted_by_unit": True, "solved": "solved", "satisfaction": "satisfied"}
ALL = [
    "baseline",
    "broker-pause",
    "broker-cut",
    *(f"kill-{name}" for name in SERVICE_NAMES),
    "postgres-restart",
    "poison",
]


def _env(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass(frozen=True)
class Settings:
    seconds: float = _env("FAULTS_SECONDS", 60)
    rate: float = _env("FAULTS_RATE", 20)
    pause: float = _env("FAULTS_PAUSE_SECONDS", 60)
    down: float = _env("FAULTS_DOWN_SECONDS", 5)
    play_every: int = int(_env("FAULTS_PLAY_EVERY", 4))
    drain_timeout: float = _env("FAULTS_DRAIN_TIMEOUT", 600)
    scenarios: tuple[str, ...] = tuple(
        s.strip() for s in os.environ.get("FAULTS_SCENARIOS", ",".join(ALL)).split(",") if s
    )


@dataclass
class Row:
    scenario: str
    offered: int = 0
    accepted: int = 0
    refused: int = 0  # 503 with Retry-After
    failed: dict[str, int] = field(default_factory=dict)  # any other answer or error
    lost: int = 0
    doubled: int = 0
    drain: float | None = None
    notes: list[str] = field(default_factory=list)


def bodies() -> list[str]:
    """The demo city's tickets as templates, each with a citizen phone placeholder."""
    return [_template(t) for t in demo.city()["tickets"]]


class Drill:
    def __init__(self, settings: Settings, run_dir: Path) -> None:
        self.s = settings
        self.proxy = CuttableProxy(listen_port=free_port(), target_port=free_port())
        self.stack = LocalStack(
            run_dir=run_dir,
            prefix="hl_faults",
            ports={name: free_port() for name in SERVICE_NAMES},
            broker_port=self.proxy.target_port,
            advertised_port=self.proxy.listen_port,
            load_demo=True,  # the demo directory; no sample tickets
            extra_env={"HOTLINE_OUTBOX_POLL_SECONDS": "0.2"},
        )
        self.auditor = Auditor(self.stack)
        self.templates = bodies()
        self.phones = itertools.count(int(time.time()) % 100_000 * 10_000)
        self.accepted: set[str] = set()
        self.played: set[str] = set()
        self.players: set[asyncio.Task[None]] = set()
        self.play_slots = asyncio.Semaphore(24)
        self.seen_lost: set[tuple[str, str]] = set()
        self.seen_doubled: set[tuple[str, str]] = set()
        self.offsets: dict[int, int] = {}
        self.rows: list[Row] = []
        self.disaster: list[str] = []
        self.client = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=200))

    # ---- the stack ---------------------------------------------------------------------

    def start(self) -> None:
        self.proxy.start()
        asyncio.run(self.stack.create_databases())
        self.stack.start_all()

    def stop(self) -> None:
        self.stack.stop_all()
        self.proxy.stop()

    @property
    def broker(self) -> subprocess.Popen[bytes]:
        return self.stack.processes["broker"]

    def direct(self) -> str:
        """The broker itself, not through the proxy (the drill's own reads)."""
        return f"127.0.0.1:{self.stack.broker_port}"

    async def end_offsets(self) -> dict[int, int]:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.direct(), group_id=None)
        await consumer.start()
        try:
            await consumer.topics()
            parts = [TopicPartition(TOPIC, p) for p in consumer.partitions_for_topic(TOPIC) or ()]
            ends = await consumer.end_offsets(parts)
            return {tp.partition: off for tp, off in ends.items()}
        finally:
            await consumer.stop()

    async def check_broker(self, when: str) -> None:
        if self.broker.poll() is not None:
            self.disaster.append(f"BROKER LOG LOST: the broker exited ({when})")
            return
        now = await self.end_offsets()
        went_back = {
            p: (self.offsets.get(p, 0), o) for p, o in now.items() if o < self.offsets.get(p, 0)
        }
        if went_back or len(now) < len(self.offsets):
            self.disaster.append(f"BROKER LOG LOST ({when}): end offsets went back {went_back}")
        self.offsets = now

    # ---- load and players --------------------------------------------------------------

    def body(self) -> bytes:
        n = next(self.phones)
        template = self.templates[n % len(self.templates)]
        return template.replace(PHONE, f"13{n % 1_000_000_000:09d}").encode()

    async def post(self, row: Row, n: int) -> None:
        row.offered += 1
        intake = self.stack.url("intake")
        try:
            answer = await self.client.post(
                f"{intake}/api/v1/tickets",
                content=self.body(),
                headers={**GATEWAY, "Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            row.failed[type(exc).__name__] = row.failed.get(type(exc).__name__, 0) + 1
            return
        if answer.status_code == 201:
            row.accepted += 1
            ticket = str(answer.json()["id"])
            self.accepted.add(ticket)
            if n % self.s.play_every == 0:
                task = asyncio.create_task(self.play(ticket))
                self.players.add(task)
                task.add_done_callback(self.players.discard)
        elif answer.status_code == 503 and "retry-after" in answer.headers:
            row.refused += 1
        else:
            key = str(answer.status_code)
            row.failed[key] = row.failed.get(key, 0) + 1

    async def load(self, row: Row, seconds: float) -> None:
        """Open loop: request n is due at start + n / rate, answered or not."""
        start = time.monotonic()
        sent: list[asyncio.Task[None]] = []
        for n in itertools.count():
            due = start + n / self.s.rate
            if due - start >= seconds:
                break
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            sent.append(asyncio.create_task(self.post(row, n)))
        await asyncio.gather(*sent)

    async def step(
        self, method: str, url: str, headers: dict[str, str], body: Any = None
    ) -> httpx.Response:
        """One call, retried through the faults until answered; 409 (already done, e.g. an
        answer lost to a kill) counts as done."""
        pause = 0.2
        deadline = time.monotonic() + self.s.drain_timeout
        while True:
            try:
                answer = await self.client.request(method, url, headers=headers, json=body)
                if answer.status_code < 500 or time.monotonic() > deadline:
                    return answer
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)

    async def until(self, probe: Any) -> Any:
        pause = 0.5
        deadline = time.monotonic() + self.s.drain_timeout
        while time.monotonic() < deadline:
            found = await probe()
            if found is not None:
                return found
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, 5.0)
        return None

    async def play(self, ticket: str) -> None:
        routing, callback = self.stack.url("routing"), self.stack.url("callback")
        async with self.play_slots:

            async def dispatched() -> list[dict[str, Any]] | None:
                answer = await self.step(
                    "GET", f"{routing}/api/v1/routing/tickets/{ticket}", OPERATOR
                )
                if answer.status_code != 200:
                    return None
                routed = answer.json()
                if routed["status"] == "queued":
                    return []
                found: list[dict[str, Any]] = routed["assignments"]
                return found if any(a["role"] == "lead" for a in found) else None

            assignments = await self.until(dispatched)
            if not assignments:
                return  # queued (no dispatcher here) or never dispatched: the audit says which
            for a in sorted(assignments, key=lambda a: a["role"] == "lead"):
                unit = bearer(Role.UNIT, a["unit_id"])
                base = f"{routing}/api/v1/assignments/{a['id']}"
                for what in ("sign", "contact"):
                    await self.step("POST", f"{base}/{what}", unit)
                await self.step("POST", f"{base}/reply", unit, REPLY)

            async def due() -> str | None:
                answer = await self.step(
                    "GET", f"{callback}/api/v1/callbacks?ticket_id={ticket}", OPERATOR
                )
                if answer.status_code != 200:
                    return None
                tasks = [t for t in answer.json() if t["status"] == "due"]
                return str(tasks[0]["id"]) if tasks else None

            task = await self.until(due)
            if task is None:
                return
            answer = await self.step(
                "POST", f"{callback}/api/v1/callbacks/{task}/result", OPERATOR, VERDICT
            )
            if answer.status_code in (200, 201, 409):
                self.played.add(ticket)

    # ---- faults ------------------------------------------------------------------------

    async def readiness(self, row: Row, stop: asyncio.Event) -> None:
        """While the scenario runs: how many /readyz samples (every 2 s) were not ready. The
        services are asked together: asked one after another, each taking its 3 s broker ping
        while the broker hangs, a 20 s pause got one sample."""
        red: dict[str, int] = {}
        samples = 0

        async def ready(name: str) -> bool:
            try:
                answer = await self.client.get(f"{self.stack.url(name)}/readyz", timeout=5)
            except httpx.HTTPError:
                return False
            return answer.status_code == 200

        while not stop.is_set():
            samples += 1
            answers = await asyncio.gather(*(ready(name) for name in SERVICE_NAMES))
            for name, ok in zip(SERVICE_NAMES, answers, strict=True):
                if not ok:
                    red[name] = red.get(name, 0) + 1
            try:
                await asyncio.wait_for(stop.wait(), 2)
            except TimeoutError:
                pass
        row.notes.append(
            "readyz not ready: "
            + (
                ", ".join(f"{n} {k}/{samples}" for n, k in red.items())
                if red
                else f"never (0/{samples})"
            )
        )

    async def inject(self, scenario: str, row: Row) -> None:
        loop = asyncio.get_running_loop()
        if scenario == "broker-pause":
            self.broker.send_signal(signal.SIGSTOP)
            try:
                await asyncio.sleep(self.s.pause)
            finally:
                self.broker.send_signal(signal.SIGCONT)
        elif scenario == "broker-cut":
            self.proxy.cut()
            try:
                await asyncio.sleep(self.s.pause)
            finally:
                self.proxy.restore()
        elif scenario.startswith("kill-"):
            name = scenario.removeprefix("kill-")
            process = self.stack.processes[name]
            process.send_signal(signal.SIGKILL)
            await loop.run_in_executor(None, process.wait)
            await asyncio.sleep(self.s.down)
            self.stack.start_service(name)
            await loop.run_in_executor(None, self.stack.wait_ready, [name], 120.0)
        elif scenario == "postgres-restart":
            cluster = os.listdir("/etc/postgresql")[0]
            restarted = await asyncio.to_thread(
                subprocess.run,
                ["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"],
                capture_output=True,
                text=True,
            )
            if restarted.returncode != 0:
                row.notes.append(f"pg_ctlcluster failed: {restarted.stderr.strip()}")

    async def drain(self, row: Row, since: float) -> None:
        """Until every player finished, every outbox is published and every consumer has
        applied what it should: the seconds since the load ended."""
        deadline = since + self.s.drain_timeout
        last: dict[str, int] = {}
        while time.monotonic() < deadline:
            if not self.players:
                try:
                    last = await self.auditor.progress()
                except (OSError, asyncpg.PostgresError) as exc:
                    last = {"error": 1}
                    row.notes.append(f"audit read failed once: {exc!r}")
                if (
                    last.get("unpublished") == 0
                    and all(v <= 0 for k, v in last.items() if k.startswith("behind."))
                    and "error" not in last
                ):
                    row.drain = time.monotonic() - since
                    return
            await asyncio.sleep(2)
        row.notes.append(
            f"NOT DRAINED after {self.s.drain_timeout:.0f} s: {last}, players {len(self.players)}"
        )

    def findings(self, row: Row, found: Findings) -> None:
        lost, doubled = found.keys()
        new_lost, new_doubled = lost - self.seen_lost, doubled - self.seen_doubled
        self.seen_lost |= new_lost
        self.seen_doubled |= new_doubled
        row.lost, row.doubled = len(new_lost), len(new_doubled)
        for label, items in (("LOST", new_lost), ("DOUBLED", new_doubled)):
            kinds: dict[str, list[str]] = {}
            for kind, what in items:
                kinds.setdefault(kind, []).append(what)
            for kind, whats in sorted(kinds.items()):
                row.notes.append(f"{label} {kind}: {len(whats)}, e.g. {sorted(whats)[:3]}")

    async def dead_letters(self, row: Row) -> None:
        store = KafkaDeadLetters(PlatformSettings(kafka_bootstrap=self.direct()))
        try:
            letters = [d for d in await store.dead_letters() if d.pending]
        finally:
            await store.close()
        real = [
            d
            for d in letters
            if not (d.envelope and d.envelope.ticket_id.startswith(poison.PREFIX))
        ]
        if real:
            row.notes.append(
                f"DEAD LETTERS pending: {len(real)}, e.g. "
                + "; ".join(
                    f"{d.consumer} {d.envelope.type if d.envelope else '?'}: {d.error[:120]}"
                    for d in real[:3]
                )
            )

    async def scenario(self, scenario: str) -> Row:
        row = Row(scenario)
        print(f"\n== {scenario}", flush=True)
        await self.check_broker(f"before {scenario}")
        if scenario == "poison":
            await self.poison(row)
            for note in row.notes:
                print(f"   - {note}", flush=True)
            self.rows.append(row)
            return row
        played = len(self.played)
        duration = self.s.pause if scenario.startswith("broker-") else 0.0
        lead = self.s.seconds / 3
        stop = asyncio.Event()
        ready = asyncio.create_task(self.readiness(row, stop))
        load = asyncio.create_task(self.load(row, self.s.seconds + duration))
        if scenario != "baseline":
            await asyncio.sleep(lead)
            print(f"   injecting {scenario} at +{lead:.0f} s", flush=True)
            await self.inject(scenario, row)
            print("   recovered", flush=True)
        await load
        ended = time.monotonic()
        stop.set()
        await ready
        print(f"   load done: {row.offered} offered, {row.accepted} accepted; draining", flush=True)
        await self.drain(row, ended)
        await self.check_broker(f"after {scenario}")
        found = await self.auditor.audit(self.accepted, self.played)
        differences = await self.auditor.analytics_against_rebuild()
        for d in differences:
            found.add(found.doubled, "analytics ≠ rebuild", [d])
        self.findings(row, found)
        row.notes.insert(0, f"played to the callback verdict: {len(self.played) - played}")
        await self.dead_letters(row)
        print(f"   {self.line(row)}", flush=True)
        for note in row.notes:
            print(f"   - {note}", flush=True)
        self.rows.append(row)
        return row

    async def poison(self, row: Row) -> None:
        """The poison event on Kafka: dead-lettered with its error, the fix, the replay by
        the documented command, applied once (and a second replay changes nothing)."""
        ticket = poison.ticket_id()
        bad = poison.addition(ticket)
        settings = PlatformSettings(kafka_bootstrap=self.direct(), kafka_idempotent_producer=False)
        store = KafkaDeadLetters(settings)
        producer = AIOKafkaProducer(bootstrap_servers=self.direct(), acks="all")
        routing = await asyncpg.connect(self.auditor.dsn("routing"))
        additions = "SELECT count(*) FROM routing_additions WHERE ticket_id = $1"
        cli_env = {
            **os.environ,
            "HOTLINE_KAFKA_BOOTSTRAP": self.direct(),
            "HOTLINE_KAFKA_IDEMPOTENT_PRODUCER": "false",
        }

        def cli(*argv: str) -> str:
            done = subprocess.run(
                [sys.executable, "-m", "services.deadletters_cli", *argv],
                env=cli_env,
                capture_output=True,
                text=True,
            )
            print(
                f"   $ python -m services deadletters {' '.join(argv)}\n"
                + "".join(f"     {line}\n" for line in (done.stdout + done.stderr).splitlines()),
                end="",
            )
            return done.stdout

        await producer.start()
        try:
            await producer.send_and_wait(TOPIC, bad.to_json(), key=ticket.encode())
            row.offered = 1

            async def dead() -> Any:
                found = [d for d in await store.dead_letters() if d.event_id == bad.event_id]
                return found or None

            letters = await self.until(dead)
            if not letters:
                row.notes.append("LOST the poison was never dead-lettered")
                row.lost = 1
                return
            row.notes.append(f"dead-lettered by {letters[0].consumer}: {letters[0].error}")
            cli("list")
            # The fix: the event routing was missing is delivered.
            await producer.send_and_wait(
                TOPIC, poison.received(ticket).to_json(), key=ticket.encode()
            )

            async def known() -> bool | None:
                return (
                    True
                    if await routing.fetchval(
                        "SELECT count(*) FROM routing_tickets WHERE id = $1", ticket
                    )
                    else None
                )

            await self.until(known)
            before = await routing.fetchval(additions, ticket)
            cli("replay", "--event-id", str(bad.event_id))

            async def applied() -> int | None:
                n = await routing.fetchval(additions, ticket)
                return int(n) if n else None

            once = await self.until(applied)
            cli("replay", "--event-id", str(bad.event_id), "--again")
            await asyncio.sleep(10)
            after = int(await routing.fetchval(additions, ticket))
            claims = int(
                await routing.fetchval(
                    "SELECT count(*) FROM routing_inbox WHERE event_id = $1", str(bad.event_id)
                )
            )
            cli("list", "--all")
            row.accepted = 1
            row.notes.append(
                f"routing additions before the replay {before}, after {once}, after a second replay {after}; inbox claims {claims}"
            )
            if not once:
                row.lost = 1
            if after > 1 or claims > 1:
                row.doubled = 1
        finally:
            await producer.stop()
            await store.close()
            await routing.close()

    # ---- the report --------------------------------------------------------------------

    @staticmethod
    def line(row: Row) -> str:
        failed = sum(row.failed.values())
        drain = f"{row.drain:.1f}" if row.drain is not None else "—"
        return (
            f"{row.scenario:<17} {row.offered:>7} {row.accepted:>8} {row.refused:>12} "
            f"{failed:>7} {row.lost:>5} {row.doubled:>7} {drain:>8}"
        )

    def table(self) -> str:
        head = (
            f"{'scenario':<17} {'offered':>7} {'accepted':>8} {'503+RetryAft':>12} "
            f"{'failed':>7} {'lost':>5} {'doubled':>7} {'drain s':>8}"
        )
        lines = [head, "-" * len(head)]
        for row in self.rows:
            lines.append(self.line(row))
            if row.failed:
                lines.append(f"{'':<17} failed: {json.dumps(row.failed)}")
        return "\n".join(lines)

    async def run(self) -> int:
        print(
            f"faults: {self.s.rate:g}/s for {self.s.seconds:g} s per scenario, broker faults "
            f"{self.s.pause:g} s, services down {self.s.down:g} s, one ticket in "
            f"{self.s.play_every} played; scenarios {', '.join(self.s.scenarios)}",
            flush=True,
        )
        try:
            for scenario in self.s.scenarios:
                await self.scenario(scenario)
        finally:
            for task in list(self.players):
                task.cancel()
            await self.client.aclose()
        print("\n" + self.table())
        for d in self.disaster:
            print(f"\n!!! {d} !!!")
        bad = self.disaster or any(
            r.lost or r.doubled or (r.drain is None and r.scenario != "poison") for r in self.rows
        )
        print(
            "\nFAULTS: "
            + (
                "FAILED — something was lost, doubled or not drained"
                if bad
                else "passed: nothing lost, nothing doubled"
            )
        )
        return 1 if bad else 0


def main() -> None:
    settings = Settings()
    unknown = [s for s in settings.scenarios if s not in ALL]
    if unknown:
        raise SystemExit(f"unknown scenario(s) {unknown}; choose from {ALL}")
    run_dir = Path(".run/faults").resolve()
    drill = Drill(settings, run_dir)
    drill.start()
    try:
        code = asyncio.run(drill.run())
    finally:
        drill.stop()
        print(f"logs in {run_dir}")
    raise SystemExit(code)
