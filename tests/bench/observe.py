"""What the pipeline bench watches while a platform runs, read from the outside: how far each
consumer is behind the bus head, how many events each service's outbox has not yet published,
and when each ticket became visible as dispatched, armed and counted.

Per-ticket progress is read from each service's own database, read-only, not through the HTTP
APIs: a per-ticket GET for every ticket at 200 tickets/s would add hundreds of requests per
second to the load being measured, where one indexed query per service per poll reads every
ticket that moved since the last one. A ticket is

- dispatched when routing has written its lead assignment (`routing_assignments`, role lead);
- armed when sla has written the lead assignment's clock (`sla_clocks`, scope assignment, role
  lead; its timers are written in the same transaction);
- counted when analytics has written its fact row (`analytics_tickets`), from which its
  figures are summed.

The time of each is when a poll first sees the row committed, so it is late by at most one
poll interval (bench_pipeline's `BENCH_PIPELINE_POLL`). The domain timestamps in those rows cannot serve: they are the
events' times (routing's `dispatched_at` is the moment intake accepted the ticket), not when a
consumer got to them.

Embedded (`EmbeddedWatch`): the SQLite files in HOTLINE_DATA_DIR, opened read-only (`mode=ro`;
WAL lets these short reads run beside the platform's writer). The rows are followed by rowid,
which grows with every insert, so a poll reads only what was added since the last. The bus is
`bus.db`: its head is the last offset of `bus_log`, each consumer's position its row in
`bus_offsets`.

Distributed (`DistributedWatch`): each service's PostgreSQL database (the pending tickets'
ids, `= ANY($1)`, on the indexed ticket_id columns) and the broker: each consumer group's
committed offsets (the group is the service's name) against the topic's end offsets, summed
over partitions (see `DistributedWatch._ends` for how the end is found on tansu).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services import SERVICE_NAMES
from shared.settings import PlatformSettings

STAGES = ("dispatched", "armed", "counted")
CONSUMERS = SERVICE_NAMES  # each service consumes the bus under its own name
# The row that marks each stage, and the service whose database holds it.
STAGE_ROWS = {
    "dispatched": ("routing", "routing_assignments", "role = 'lead'"),
    "armed": ("sla", "sla_clocks", "scope = 'assignment' AND role = 'lead'"),
    "counted": ("analytics", "analytics_tickets", "1 = 1"),
}


@dataclass(frozen=True)
class Backlog:
    """The bus head (events ever published), each consumer's lag behind it (events) and each
    service's unpublished outbox rows."""

    head: int
    lag: dict[str, int] = field(default_factory=dict)
    outbox: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(self.lag.values()) and not any(self.outbox.values())


class Watch(Protocol):
    async def backlog(self) -> Backlog: ...

    async def seen(self, pending: dict[str, set[str]]) -> dict[str, dict[str, float]]:
        """Of the `pending` ticket ids per stage, those now visible at that stage, each with
        the time (seconds since the epoch) it was first seen."""
        ...

    async def close(self) -> None: ...


def _read_only(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    connection.execute("PRAGMA query_only = ON")
    return connection


class EmbeddedWatch:
    """The embedded platform's SQLite files under `data_dir`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._after = dict.fromkeys(STAGES, 0)  # the last rowid read per stage
        # Rows read before their ticket was pending (its answer not yet read): when first seen.
        self._visible: dict[str, dict[str, float]] = {stage: {} for stage in STAGES}

    def _query(self, database: str, sql: str, *args: object) -> list[tuple[Any, ...]]:
        # A connection per read: a long-lived reader would pin old WAL frames (its snapshot),
        # and opening a SQLite file costs far less than the poll interval.
        with closing(_read_only(self.data_dir / f"{database}.db")) as connection:
            return list(connection.execute(sql, args))

    def backlog_now(self) -> Backlog:
        ((head,),) = self._query("bus", 'SELECT coalesce(max("offset"), 0) FROM bus_log')
        positions = dict(self._query("bus", 'SELECT consumer, "offset" FROM bus_offsets'))
        lag = {name: int(head) - int(positions.get(name, 0)) for name in CONSUMERS}
        outbox = {}
        for name in SERVICE_NAMES:
            # The relay's own partial index (published_at IS NULL) keeps this count small.
            sql = f"SELECT count(*) FROM {name}_outbox WHERE published_at IS NULL"
            ((unpublished,),) = self._query(name, sql)
            outbox[name] = int(unpublished)
        return Backlog(int(head), lag, outbox)

    def seen_now(self, pending: dict[str, set[str]]) -> dict[str, dict[str, float]]:
        now = time.time()  # before the reads: a row they find was visible by then
        for stage in STAGES:
            database, table, where = STAGE_ROWS[stage]
            rows = self._query(
                database,
                f"SELECT rowid, ticket_id FROM {table} WHERE rowid > ? AND {where} ORDER BY rowid",
                self._after[stage],
            )
            if rows:
                self._after[stage] = int(rows[-1][0])
                for _, ticket in rows:
                    self._visible[stage].setdefault(str(ticket), now)
        found: dict[str, dict[str, float]] = {}
        for stage, ids in pending.items():
            visible = self._visible[stage]
            found[stage] = {t: visible.pop(t) for t in ids & visible.keys()}
        return found

    async def backlog(self) -> Backlog:
        return self.backlog_now()

    async def seen(self, pending: dict[str, set[str]]) -> dict[str, dict[str, float]]:
        return self.seen_now(pending)

    async def close(self) -> None:
        return None


class DistributedWatch:
    """The `make up` stack: a PostgreSQL database per service and the broker."""

    def __init__(
        self,
        pools: dict[str, asyncpg.Pool],
        tail: AIOKafkaConsumer,
        admin: AIOKafkaAdminClient,
    ) -> None:
        self.pools, self.tail, self.admin = pools, tail, admin
        self.topic = PlatformSettings().kafka_topic
        self.partitions: list[TopicPartition] = []

    @classmethod
    async def open(cls, databases: dict[str, str], bootstrap: str) -> DistributedWatch:
        pools = {
            name: await asyncpg.create_pool(dsn, min_size=1, max_size=1)
            for name, dsn in databases.items()
        }
        # No group: this consumer reads the topic's tail and never joins or commits.
        tail = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, client_id="bench-watch", fetch_max_wait_ms=20
        )
        await tail.start()
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-watch")
        await admin.start()
        return cls(pools, tail, admin)

    async def _ends(self) -> dict[TopicPartition, int]:
        """Each partition's end offset (the next offset to be written). The tansu broker
        answers ListOffsets(latest) with the base offset of the partition's last record batch,
        not the offset after its last record; so the batch found there is read and the end is
        the offset after its last record."""
        if not self.partitions:
            await self.tail.topics()  # refreshes the cluster metadata read next
            found = self.tail.partitions_for_topic(self.topic) or set()
            self.partitions = [TopicPartition(self.topic, p) for p in sorted(found)]
            if not self.partitions:
                return {}
            self.tail.assign(self.partitions)
        ends = dict(await self.tail.end_offsets(self.partitions))
        for tp, offset in ends.items():
            self.tail.seek(tp, offset)
        waiting = set(self.partitions)
        for _ in range(3):  # a fetch answers only when records arrive or fetch_max_wait ends
            batches = await self.tail.getmany(*waiting, timeout_ms=50)
            for tp, records in batches.items():
                ends[tp] = max(ends[tp], records[-1].offset + 1)
                waiting.discard(tp)
            if not waiting:
                break
        return ends

    async def backlog(self) -> Backlog:
        ends = await self._ends()
        lag = {}
        for group in CONSUMERS:
            committed = await self.admin.list_consumer_group_offsets(group, partitions=list(ends))
            lag[group] = sum(
                end - max(committed[tp].offset, 0) if tp in committed else end
                for tp, end in ends.items()
            )
        outbox = {}
        for name, pool in self.pools.items():
            sql = f"SELECT count(*) FROM {name}_outbox WHERE published_at IS NULL"
            outbox[name] = int(await pool.fetchval(sql))
        return Backlog(sum(ends.values()), lag, outbox)

    async def seen(self, pending: dict[str, set[str]]) -> dict[str, dict[str, float]]:
        # Only pending tickets are looked for, so a row that became visible before its
        # ticket's answer reached the pacer counts from the first poll after the answer.
        now = time.time()
        found: dict[str, dict[str, float]] = {}
        for stage, ids in pending.items():
            if not ids:
                found[stage] = {}
                continue
            database, table, where = STAGE_ROWS[stage]
            rows = await self.pools[database].fetch(
                f"SELECT DISTINCT ticket_id FROM {table} WHERE {where} AND ticket_id = ANY($1)",
                list(ids),
            )
            found[stage] = {row[0]: now for row in rows}
        return found

    async def close(self) -> None:
        await self.admin.close()
        await self.tail.stop()
        for pool in self.pools.values():
            await pool.close()


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile (0–100) by nearest rank; 0 for no values."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]
