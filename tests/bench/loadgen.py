"""Load for the real-HTTP benches: Debian's `wrk` with tests/bench/wrk_tickets.lua, and the
ticket bodies it posts.

`wrk` keeps 32 connections (`BENCH_CONNECTIONS`) busy, each sending its next request as soon
as the last one is answered (a closed loop: the offered load is whatever the server answers).
One wrk thread (see the Lua script for why). Requests that take longer than `BENCH_WRK_TIMEOUT`
seconds (default 30, wrk's own default is 2) are counted as timeouts and left out of the
latencies, so the timeout is long enough for slow servers' latencies to be measured rather than
dropped. Percentiles are wrk's, which corrects for coordinated omission.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services import demo
from tests.support import GATEWAY

CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
TIMEOUT_SECONDS = int(os.environ.get("BENCH_WRK_TIMEOUT", "30"))
SCRIPT = Path(__file__).with_name("wrk_tickets.lua")
TICKETS_PATH = "/api/v1/tickets"
PHONE = "@PHONE@"
# Each wrk run starts its phones ten million above the last one's (the script numbers
# requests from FIRST_PHONE), so no citizen reports twice within one bench process.
_first_phones = itertools.count(0, 10_000_000)


@dataclass(frozen=True)
class Load:
    """What one wrk run measured."""

    seconds: float
    requests: int  # answered, any status
    accepted: int  # answered 2xx
    non_2xx: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    timeouts: int
    socket_errors: int
    statuses: dict[int, int] = field(default_factory=dict)  # non-2xx responses by status

    @property
    def rate(self) -> float:
        """Accepted requests per second."""
        return self.accepted / self.seconds if self.seconds else 0.0

    def describe(self) -> str:
        text = f"{self.requests:,} answered, non-2xx {self.non_2xx}"
        if self.statuses:
            text += " (" + ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items())) + ")"
        if self.timeouts or self.socket_errors:
            text += f", timeouts {self.timeouts}, socket errors {self.socket_errors}"
        return text


def _template(ticket: dict[str, Any], **changes: Any) -> str:
    """One body template: the ticket as JSON on one line, the citizen's phone a placeholder.
    Every body names a citizen with a phone (the demo's anonymous tickets too), so that each
    request comes from a different citizen."""
    body = {**ticket, **changes}
    citizen = body.get("citizen") or {}
    body["citizen"] = {"name": citizen.get("name") or "市民", "phone": PHONE, "anonymous": False}
    # ASCII escapes keep the line free of anything the Lua side would have to decode.
    return json.dumps(body, ensure_ascii=True, separators=(",", ":"))


def demo_bodies() -> list[str]:
    """The demo city's sample tickets (services/demo_city.json), cycled through in order."""
    return [_template(ticket) for ticket in demo.city()["tickets"]]


STORM_TITLE = "路面自来水管爆裂附近停水"
# How different citizens put the same matter: the same facts, a few words changed.
STORM_OPENINGS = ["", "我是附近居民，", "路过看到，", "再反映一次：", "紧急情况！", "你好，"]
STORM_CLOSINGS = [
    "",
    "希望尽快处理。",
    "家里老人孩子没水用，太着急了。",
    "已经好几个小时了还没人管。",
]


def storm_bodies() -> list[str]:
    """One matter at one place, as a storm brings it: the demo city's burst water main at
    港湾社区门口 (same category, same address), in near-identical words."""
    (ticket,) = [t for t in demo.city()["tickets"] if t["title"] == STORM_TITLE]
    return [
        _template(ticket, description=opening + ticket["description"] + closing)
        for opening, closing in itertools.product(STORM_OPENINGS, STORM_CLOSINGS)
    ]


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (`make bench` does)")
    return found


def _write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="ascii")


def write_bodies(path: Path, bodies: list[str]) -> None:
    """The body templates as a file, one a line, for a load generator in another process."""
    _write_lines(path, bodies)


def next_first_phone() -> int:
    """The first phone number of a new run of requests, ten million above the last run's in
    this process (wrk's and tests/bench/pacer.py's alike), so no citizen reports twice."""
    return next(_first_phones) % 1_000_000_000


def _parse(stdout: str, stderr: str) -> Load:
    for line in stdout.splitlines():
        if line.startswith("WRK_JSON "):
            raw = json.loads(line.removeprefix("WRK_JSON "))
            return Load(
                seconds=raw["duration_us"] / 1e6,
                requests=raw["requests"],
                accepted=raw["accepted"],
                non_2xx=raw["non_2xx"],
                p50_ms=raw["p50_us"] / 1e3,
                p99_ms=raw["p99_us"] / 1e3,
                max_ms=raw["max_us"] / 1e3,
                timeouts=raw["timeouts"],
                socket_errors=raw["socket_errors"],
                statuses={int(s): n for s, n in raw["statuses"].items()},
            )
    raise RuntimeError(f"wrk printed no summary.\nstdout:\n{stdout}\nstderr:\n{stderr}")


async def post_tickets(
    base_url: str,
    bodies: list[str],
    *,
    seconds: int,
    stop_after: int = 0,
    connections: int = CONNECTIONS,
) -> Load:
    """POST bodies to `base_url` + /api/v1/tickets as the gateway for `seconds`, or until
    `stop_after` responses when that comes first."""
    token = GATEWAY["Authorization"].removeprefix("Bearer ")
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        path = Path(tmp) / "bodies.jsonl"
        _write_lines(path, bodies)
        process = await asyncio.create_subprocess_exec(
            wrk_binary(),
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            f"--timeout={TIMEOUT_SECONDS}s",
            "-s",
            str(SCRIPT),
            base_url + TICKETS_PATH,
            "--",
            str(path),
            str(next_first_phone()),
            str(stop_after),
            token,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await process.communicate()
    return _parse(stdout.decode(), stderr.decode())
