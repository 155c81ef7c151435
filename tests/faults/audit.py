"""The auditor of the fault drills: reads every service's PostgreSQL database directly and says
what was lost and what was doubled.

Lost:
- an accepted ticket (201) missing from intake, or any ticket of intake's missing from
  routing, sla, callback or analytics;
- an event some service published (its outbox) that a consumer handling its type never
  applied (not in that consumer's inbox) — the event-level view of the same, which also sees a
  lost `ticket.dispatched` or `assignment.replied`;
- a routing assignment without its sla clock; a played ticket (verdict recorded) not closed
  at intake or in analytics.
Doubled:
- one citizen with two tickets (every offered ticket has its own citizen), an assignment twice
  for one ticket × round × unit × role, a timer twice, a callback twice for one round, a
  once-per-ticket event stored twice by analytics (a second effect under a new event id);
- analytics' figures differing from a fresh rebuild of the same events (on a copy).
Tickets whose id starts with `POISON-` (tests/faults/poison.py) are left out.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

import asyncpg

from services import SERVICE_NAMES
from services.stack import ADMIN_DSN, LocalStack
from tests.faults.poison import PREFIX

NOT_POISON = f"ticket_id NOT LIKE '{PREFIX}%'"
ONCE_PER_TICKET = ("ticket.received", "ticket.replied", "callback.completed", "ticket.closed")


def handled_types() -> dict[str, set[str]]:
    """Each service's consumed event types, from its handlers."""
    out: dict[str, set[str]] = {}
    for name in SERVICE_NAMES:
        spec = importlib.import_module(f"{name}.app").build()
        out[name] = {model.event_type for model in spec.handlers}
    return out


@dataclass
class Findings:
    """Problems as keys (kind, detail), so that a later audit can tell what is new."""

    lost: dict[str, list[str]] = field(default_factory=dict)
    doubled: dict[str, list[str]] = field(default_factory=dict)

    def add(self, where: dict[str, list[str]], kind: str, items: Iterable[object]) -> None:
        found = [str(i) for i in items]
        if found:
            where.setdefault(kind, []).extend(found)

    def keys(self) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
        return (
            {(k, v) for k, vs in self.lost.items() for v in vs},
            {(k, v) for k, vs in self.doubled.items() for v in vs},
        )


def _copy_database(source: str, copy: str) -> None:
    pg = ["-h", "127.0.0.1", "-U", "postgres"]
    dump = subprocess.Popen(["pg_dump", *pg, "--no-owner", source], stdout=subprocess.PIPE)
    subprocess.run(
        ["psql", *pg, "-q", "-v", "ON_ERROR_STOP=1", copy],
        stdin=dump.stdout,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    if dump.wait() != 0:
        raise RuntimeError(f"pg_dump {source} failed")


class Auditor:
    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.types = handled_types()

    def dsn(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:5432/{self.stack.database(name)}"

    async def _connect(self, name: str) -> asyncpg.Connection:
        return await asyncpg.connect(self.dsn(name), timeout=10)

    async def progress(self) -> dict[str, int]:
        """Cheap figures for the drain: unpublished outbox rows, and per consumer the events it
        should have applied minus those it has (≤ 0 once drained; the poison's events count in
        its inbox but in no outbox)."""
        conns = {n: await self._connect(n) for n in SERVICE_NAMES}
        try:
            out: dict[str, int] = {}
            by_type: dict[str, int] = {}
            pending = 0
            for name, conn in conns.items():
                pending += await conn.fetchval(
                    f"SELECT count(*) FROM {name}_outbox WHERE published_at IS NULL"
                )
                for type_, n in await conn.fetch(
                    f"SELECT type, count(*) FROM {name}_outbox WHERE {NOT_POISON} GROUP BY type"
                ):
                    by_type[type_] = by_type.get(type_, 0) + n
            out["unpublished"] = pending
            for name, conn in conns.items():
                have = await conn.fetchval(
                    f"SELECT count(*) FROM {name}_inbox WHERE event_type = ANY($1::text[])",
                    list(self.types[name]),
                )
                out[f"behind.{name}"] = sum(by_type.get(t, 0) for t in self.types[name]) - have
            return out
        finally:
            for conn in conns.values():
                await conn.close()

    async def audit(self, accepted: set[str], played: set[str]) -> Findings:
        f = Findings()
        c = {n: await self._connect(n) for n in SERVICE_NAMES}
        try:
            intake = {r["id"] for r in await c["intake"].fetch("SELECT id FROM intake_tickets")}
            f.add(f.lost, "accepted, not in intake", sorted(accepted - intake))
            for name, table in (
                ("routing", "routing_tickets"),
                ("sla", "sla_tickets"),
                ("callback", "callback_tickets"),
            ):
                column = "ticket_id" if name == "callback" else "id"
                have = {r[0] for r in await c[name].fetch(f"SELECT {column} FROM {table}")}
                f.add(f.lost, f"ticket not in {name}", sorted(intake - have))
            facts = {
                r[0] for r in await c["analytics"].fetch("SELECT ticket_id FROM analytics_tickets")
            }
            f.add(f.lost, "ticket not in analytics", sorted(intake - facts))

            # Event level: every published event in the inbox of each consumer of its type.
            events: dict[str, tuple[str, str]] = {}
            for name in SERVICE_NAMES:
                for r in await c[name].fetch(
                    f"SELECT event_id, type, ticket_id FROM {name}_outbox WHERE {NOT_POISON}"
                ):
                    events[r["event_id"]] = (r["type"], r["ticket_id"])
            for name in SERVICE_NAMES:
                inbox = {r[0] for r in await c[name].fetch(f"SELECT event_id FROM {name}_inbox")}
                missing = [
                    f"{type_} {event_id} ticket {ticket}"
                    for event_id, (type_, ticket) in events.items()
                    if type_ in self.types[name] and event_id not in inbox
                ]
                f.add(f.lost, f"event not applied by {name}", sorted(missing))

            assignments = await c["routing"].fetch(
                "SELECT id, ticket_id FROM routing_assignments WHERE "
                + NOT_POISON.replace("ticket_id", "ticket_id")
            )
            clocks = {
                r[0]
                for r in await c["sla"].fetch(
                    "SELECT assignment_id FROM sla_clocks WHERE scope = 'assignment'"
                )
            }
            f.add(
                f.lost,
                "assignment without sla clock",
                sorted(
                    f"{a['id']} ticket {a['ticket_id']}"
                    for a in assignments
                    if a["id"] not in clocks
                ),
            )
            if played:
                open_ = await c["intake"].fetch(
                    "SELECT id, status FROM intake_tickets WHERE id = ANY($1::text[]) "
                    "AND status <> 'closed'",
                    list(played),
                )
                f.add(f.lost, "played, not closed at intake", [f"{r[0]} {r[1]}" for r in open_])
                unclosed = await c["analytics"].fetch(
                    "SELECT ticket_id FROM analytics_tickets WHERE ticket_id = ANY($1::text[]) "
                    "AND closed_at IS NULL",
                    list(played),
                )
                f.add(f.lost, "played, not closed in analytics", [r[0] for r in unclosed])
                done = await c["callback"].fetch(
                    "SELECT ticket_id, count(*) FILTER (WHERE completed_at IS NOT NULL) AS n "
                    "FROM callback_tasks WHERE ticket_id = ANY($1::text[]) GROUP BY ticket_id",
                    list(played),
                )
                completed = {r[0]: r[1] for r in done}
                f.add(
                    f.lost,
                    "played, callback not completed",
                    sorted(t for t in played if completed.get(t, 0) == 0),
                )

            # Doubled.
            f.add(
                f.doubled,
                "citizen with two tickets",
                [
                    f"{r[0]} ×{r[1]}"
                    for r in await c["intake"].fetch(
                        # The blind index: the phone itself is encrypted (random nonce).
                        "SELECT citizen_index, count(*) FROM intake_tickets WHERE citizen_index "
                        "IS NOT NULL GROUP BY 1 HAVING count(*) > 1"
                    )
                ],
            )
            f.add(
                f.doubled,
                "assignment twice",
                [
                    f"{r[0]} round {r[1]} {r[2]} {r[3]} ×{r[4]}"
                    for r in await c["routing"].fetch(
                        "SELECT ticket_id, round, unit_id, role, count(*) FROM routing_assignments "
                        "GROUP BY 1, 2, 3, 4 HAVING count(*) > 1"
                    )
                ],
            )
            f.add(
                f.doubled,
                "sla timer twice",
                [
                    f"{r[0]} {r[1]} {r[2]} {r[3]} ×{r[4]}"
                    for r in await c["sla"].fetch(
                        "SELECT clock_id, stage, kind, threshold, count(*) FROM sla_timers "
                        "GROUP BY clock_id, stage, kind, threshold, generation HAVING count(*) > 1"
                    )
                ],
            )
            f.add(
                f.doubled,
                "callback twice",
                [
                    f"{r[0]} round {r[1]} ×{r[2]}"
                    for r in await c["callback"].fetch(
                        "SELECT ticket_id, round, count(*) FROM callback_tasks "
                        "GROUP BY 1, 2 HAVING count(*) > 1"
                    )
                ],
            )
            f.add(
                f.doubled,
                "analytics event twice",
                [
                    f"{r[0]} {r[1]} ×{r[2]}"
                    for r in await c["analytics"].fetch(
                        "SELECT ticket_id, type, count(*) FROM analytics_events "
                        "WHERE type = ANY($1::text[]) GROUP BY 1, 2 HAVING count(*) > 1",
                        list(ONCE_PER_TICKET),
                    )
                ],
            )
            per_ticket = {
                r[0]: r[1]
                for r in await c["routing"].fetch(
                    "SELECT ticket_id, count(*) FROM routing_assignments GROUP BY 1"
                )
            }
            dispatched = await c["analytics"].fetch(
                "SELECT ticket_id, count(*) FROM analytics_events "
                "WHERE type = 'ticket.dispatched' GROUP BY 1"
            )
            f.add(
                f.doubled,
                "more dispatches in analytics than assignments",
                [
                    f"{r[0]} {r[1]}>{per_ticket.get(r[0], 0)}"
                    for r in dispatched
                    if r[1] > per_ticket.get(r[0], 0)
                ],
            )
        finally:
            for conn in c.values():
                await conn.close()
        return f

    async def analytics_against_rebuild(self) -> list[str]:
        """Copy analytics' database, rebuild the copy from its stored events with
        `python -m services analytics rebuild`, and compare the figures; the differences."""
        source = self.stack.database("analytics")
        copy = f"{source}_rebuild"
        admin = await asyncpg.connect(ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
            await admin.execute(f"CREATE DATABASE \"{copy}\" ENCODING 'UTF8' TEMPLATE template0")
        finally:
            await admin.close()
        await asyncio.to_thread(_copy_database, source, copy)
        env = {
            **self.stack.service_env("analytics"),
            "ANALYTICS_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{copy}",
        }
        rebuilt = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "services", "analytics", "rebuild"],
            env=env,
            capture_output=True,
            text=True,
        )
        if rebuilt.returncode != 0:
            return [f"rebuild failed: {rebuilt.stderr[-500:]}"]
        live, fresh = (
            await asyncpg.connect(self.dsn("analytics")),
            await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{copy}"),
        )
        differences: list[str] = []
        try:
            for table in ("analytics_daily", "analytics_monthly", "analytics_tickets"):
                query = f"SELECT * FROM {table}"
                a = sorted(tuple(map(str, r.values())) for r in await live.fetch(query))
                b = sorted(tuple(map(str, r.values())) for r in await fresh.fetch(query))
                if a != b:
                    only_live, only_fresh = set(a) - set(b), set(b) - set(a)
                    differences.append(
                        f"{table}: {len(a)} rows live, {len(b)} rebuilt; "
                        f"{len(only_live)} only live, {len(only_fresh)} only rebuilt"
                        + (f"; e.g. live {sorted(only_live)[0]}" if only_live else "")
                        + (f"; rebuilt {sorted(only_fresh)[0]}" if only_fresh else "")
                    )
        finally:
            await live.close()
            await fresh.close()
            if not os.environ.get("FAULTS_KEEP_COPY"):
                admin = await asyncpg.connect(ADMIN_DSN)
                try:
                    await admin.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
                finally:
                    await admin.close()
        return differences
