"""A fixed offered load: `POST /api/v1/tickets` at a set rate, whatever the server answers.

    python -m tests.bench.pacer URL --rate 200 --seconds 60 --bodies FILE --out FILE
        [--first-phone N] [--max-in-flight 512] [--timeout 30]

wrk keeps a fixed number of connections busy (a closed loop: a slow server is offered less),
and wrk2, which paces, is not packaged here; so this runs open-loop: request n is due at
start + n / rate and is sent then, whether or not earlier ones were answered. At most
`--max-in-flight` requests are outstanding (a bound on the client's memory and sockets); a
request due while that many are waiting is sent when one finishes, and counted as sent late;
one still waiting when the `--seconds` window ends is not sent at all (counted: offered − sent),
so the offer never outlasts its window.
Latency is measured from when the request was due, not when it went out, so a server that
falls behind is charged for the wait it caused (no coordinated omission).

Run by bench_pipeline in a process of its own, so that pacing does not share an event loop
with the bench's polling. Each answer is a line of `--out` as it arrives
(`{"due": …, "done": …, "status": …, "id": …, "received": …}`, times in seconds since the
epoch; `received` is the ticket's received_at from intake's answer), which the
bench reads as it goes; the last line on stdout is `PACER_JSON {…}`: what was offered, sent,
answered and accepted, the achieved rate, latency percentiles and the peak RSS of this process.
Bodies are tests/bench/loadgen.py's templates, each request with the next citizen phone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import IO

import httpx
import uvloop

from tests.bench.loadgen import PHONE
from tests.bench.observe import percentile
from tests.support import GATEWAY


class Pacer:
    def __init__(self, args: argparse.Namespace, out: IO[str]) -> None:
        self.args, self.out = args, out
        self.templates = Path(args.bodies).read_text(encoding="ascii").splitlines()
        self.slots = asyncio.Semaphore(args.max_in_flight)
        self.latencies: list[float] = []
        self.statuses: dict[str, int] = {}
        self.sent_late = 0
        self.worst_start_delay = 0.0
        self.last_done = 0.0

    def body(self, n: int) -> str:
        template = self.templates[n % len(self.templates)]
        phone = f"13{(self.args.first_phone + n) % 1_000_000_000:09d}"
        return template.replace(PHONE, phone)

    async def one(self, client: httpx.AsyncClient, n: int, due: float) -> None:
        try:
            response = await client.post(
                "/api/v1/tickets",
                content=self.body(n).encode(),
                headers={**GATEWAY, "Content-Type": "application/json"},
            )
            status = str(response.status_code)
            ticket, received = None, None
            if response.status_code == 201:
                answer = response.json()
                ticket = answer["id"]
                received = datetime.fromisoformat(answer["received_at"]).timestamp()
        except httpx.HTTPError as exc:
            status, ticket, received = type(exc).__name__, None, None
        finally:
            self.slots.release()
        done = time.time()
        self.last_done = max(self.last_done, done)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if ticket:
            self.latencies.append(done - due)
        line = {"due": due, "done": done, "status": status, "id": ticket, "received": received}
        self.out.write(json.dumps(line) + "\n")
        self.out.flush()

    async def run(self) -> dict[str, object]:
        args = self.args
        total = int(args.rate * args.seconds)
        limits = httpx.Limits(max_connections=args.max_in_flight, max_keepalive_connections=64)
        tasks: set[asyncio.Task[None]] = set()
        async with httpx.AsyncClient(
            base_url=args.url, timeout=args.timeout, limits=limits
        ) as client:
            start = time.time()
            end = start + args.seconds
            sent = 0
            for n in range(total):
                due = start + n / args.rate
                pause = due - time.time()
                if pause > 0:
                    await asyncio.sleep(pause)
                if self.slots.locked():
                    self.sent_late += 1
                try:
                    # A request still waiting for a slot when the window ends is not sent:
                    # the offer stops on time, and what it could not place is reported.
                    async with asyncio.timeout(max(0.0, end - time.time())):
                        await self.slots.acquire()
                except TimeoutError:
                    break
                sent += 1
                self.worst_start_delay = max(self.worst_start_delay, time.time() - due)
                task = asyncio.create_task(self.one(client, n, due))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            offered_until = time.time()
            # Every request has its own timeout, so this wait is bounded by it.
            if tasks:
                await asyncio.wait(tasks)
        accepted = len(self.latencies)
        window = max(self.last_done, offered_until) - start
        return {
            "offered_rate": args.rate,
            "offered": total,
            "sent": sent,
            "offer_seconds": round(offered_until - start, 3),
            "answered": sum(self.statuses.values()),
            "accepted": accepted,
            "achieved_rate": accepted / window if window > 0 else 0.0,
            "statuses": self.statuses,
            "sent_late": self.sent_late,
            "worst_start_delay_ms": round(self.worst_start_delay * 1000, 1),
            "p50_ms": percentile(self.latencies, 50) * 1000,
            "p99_ms": percentile(self.latencies, 99) * 1000,
            "max_ms": max(self.latencies, default=0.0) * 1000,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.pacer")
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--bodies", required=True, help="body templates, one a line")
    parser.add_argument("--out", required=True, help="one JSON line per answer")
    parser.add_argument("--first-phone", type=int, default=0)
    parser.add_argument("--max-in-flight", type=int, default=512)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    with open(args.out, "w", encoding="utf-8") as out:
        # uvloop (uvicorn[standard] brings it, and the servers run on it): a cheaper client
        # leaves more of the two cores to the server.
        summary = uvloop.run(Pacer(args, out).run())
    print("PACER_JSON " + json.dumps(summary), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
