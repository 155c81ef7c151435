"""The bulk loader: old, closed tickets written straight into a stopped embedded platform's
SQLite files, row for row what the services themselves wrote for real tickets.

    python -m tests.bench.bulkload capture WORKDIR          # prints the template store's path
    python -m tests.bench.bulkload load DATA_DIR --tickets N [--months 6] [--seed 1]

**Templates, not hand-written rows.** `capture` starts the embedded platform on a fresh data
folder with the demo city's directory (tests/bench/servers.py) and plays each of the demo city's
36 sample tickets (services/demo_city.json: 20 categories, complaints, requests for help,
consultations, reports, suggestions, praise, in the districts' communities) through its whole
life over HTTP, as the roles would (tests/bench/workflow.py: post → dispatch → sign → contact
→ reply, assisting units first → callback verdict → closed), waits until every consumer is at
the bus head and every outbox is published, and stops the platform. What the five services
wrote for those tickets is the template: every row of every table of intake.db, routing.db,
sla.db, callback.db and analytics.db that belongs to a template ticket — the ticket's own rows
(a `ticket_id` column, or a primary key that is the ticket's id), the rows that hang off them
(a `*_id` column holding the key of a row already taken: sla's timers by `clock_id`, the
consumers' inbox rows by `event_id` of the ticket's events in any outbox, …), followed to a
fixed point. For the demo city that is about 100 rows per ticket in 17 tables: intake's
ticket, timeline, outbox and inbox rows; routing's ticket, assignments, outbox and inbox;
sla's ticket, clocks, timers, clock history, outbox and inbox; callback's ticket, task, outbox
and inbox; analytics' stored events, facts and inbox. Rows shared by many tickets (the
directory, catalogue, policies, clusters, units analytics learned) are not copied.

**Copies.** `load` adds N synthetic tickets to a stopped store that holds the templates (a
copy of the captured folder; its templates are listed in `bulkload.json` there). Synthetic
ticket i copies template i mod 36's rows with

- new identities: a ticket id of intake's form (China date of receipt + 10 hex digits: the
  load's salt and the copy's number, so that no two collide), and a new id for every other
  key the template's rows hold (assignments `A…`, supervision cases `S…`: random hex of the
  same length, so that their unique indexes have the shape random keys give them; event ids:
  time-ordered UUIDs of the copy's receipt, as the platform makes them, `shared.ids`); ids
  built from those (clock `K<assignment>`,
  callback `CB<ticket>-1`, ticket clock `T<ticket>-R1`, correlation ids) follow by
  substitution, in columns and inside JSON event bodies alike, so every reference stays
  consistent across the five databases;
- another citizen: phone 15xxxxxxxxx (by i), and its citizen_ref computed as intake does
  (`intake.domain.citizen_ref`, the platform's HOTLINE_CITIZEN_REF_SECRET) — none of the
  bench's load generators use 15… phones, so no accepted report is a repeat of an old one;
- every instant moved by the same whole number of minutes (columns in SQLite's stored form,
  and the ISO instants inside event bodies): receipt on a day drawn uniformly from the past
  `--months` (default 6) months, at an hour of the day drawn from a hotline's daily curve
  (busiest 9–11 and 14–17 China time, little at night). The ticket keeps the template's own
  intervals (its life took the seconds it took at capture), so deadlines, reminders and
  timers stay consistent with it. Autoincrement keys (timeline, timers, history, outbox
  positions, analytics event sequence) are left to SQLite.

Analytics' daily and monthly aggregates are not copied rows but sums: each synthetic ticket's
facts (the template's `History`, moved in time) go through analytics' own
`facts.contributions` (once per template and minute of the day, see `Sums`), and the sums are
added once with `analytics.aggregates.add`, as the consumer adds its deltas — so a synthetic
ticket is counted on its own days.

Not written: the embedded bus log (`bus.db`). Its consumers' offsets stay at its head, as in a
platform whose old events lie before the log's start; nothing the platform does for a new
ticket reads old log entries.

**Speed.** Every template row is compiled once into constants and format strings (the
template's ids and instants become fields), and each template table into one function that
builds its rows for a copy (`_emitter`), so a copy is little more than a `str.format` per
changed cell. Per
file, the tables' secondary indexes (those with a CREATE INDEX statement) are dropped before
the load and created again after it from their own stored SQL; the unique keys SQLite keeps
itself stay. Rows go in with `executemany`, one transaction per `CHUNK` tickets per file,
`synchronous=OFF` and a large page cache for the loader's connections only; at the end each
file's WAL is checkpointed and truncated. About 35 kB of disk per ticket (most of it event
bodies kept twice: in the producing service's outbox and in analytics' store).

The load ends by reading the last synthetic ticket back through each service's own models
(closed at intake, known to routing, sla, callback and analytics) and prints a summary line
`BULKLOAD_JSON {…}` for the benches.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from analytics import aggregates
from analytics.facts import AssignmentState, History, Key, TicketState, contributions
from analytics.rates import COUNT_NAMES, Tally
from intake.domain import citizen_ref
from services import SERVICE_NAMES, demo
from shared import db
from shared.clock import CHINA
from shared.ids import time_ordered_uuid
from shared.settings import PlatformSettings
from tests.bench import servers
from tests.bench.observe import EmbeddedWatch
from tests.bench.workflow import Urls, Workflow

MANIFEST = "bulkload.json"
CHUNK = 5_000
CAPTURE_SETTLE_SECONDS = 120.0
# SQLite's stored form of an instant (SQLAlchemy's DateTime on SQLite, in UTC) and the ISO form
# inside event bodies: the seconds part is moved, fraction and zone are kept as they are (the
# shift is a whole number of minutes).
INSTANT = re.compile(
    r"(\d{4}-\d{2}-\d{2})([ T])(\d{2}:\d{2}:\d{2})((?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})?)"
)
# Calls to a city hotline by hour of the day (China time), relative: the daily curve the
# synthetic tickets' receipt times follow.
HOURLY = [1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 18, 15, 10, 12, 16, 17, 16, 13, 10, 8, 6, 4, 3, 2]


# --- capture ----------------------------------------------------------------------------------


async def capture(workdir: Path) -> Path:
    """Play every demo ticket through its life on a fresh embedded platform; the stopped
    store, with `bulkload.json` naming the template tickets."""
    ids: list[str] = []
    async with servers.embedded(workdir) as served:
        assert served.data_dir is not None
        data_dir = served.data_dir
        async with httpx.AsyncClient(timeout=30) as client:
            flow = Workflow(client, Urls.same(served.url), timeout=60)
            for i, sample in enumerate(demo.city()["tickets"]):
                citizen = {"name": "市民", "phone": f"139{i:08d}", "anonymous": False}
                ids.append((await flow.lifecycle({**sample, "citizen": citizen})).ticket_id)
        # The templates must hold everything every service writes for a closed ticket: wait
        # until all events are published and consumed.
        watch = EmbeddedWatch(data_dir)
        deadline = time.monotonic() + CAPTURE_SETTLE_SECONDS
        while not watch.backlog_now().empty:
            if time.monotonic() > deadline:
                raise TimeoutError(f"capture: {watch.backlog_now()} after the templates closed")
            await asyncio.sleep(0.2)
    (data_dir / MANIFEST).write_text(json.dumps({"templates": ids, "loads": []}, indent=1))
    return data_dir


def copy_store(source: Path, target: Path) -> None:
    """A stopped store's SQLite files (and WAL, if any) and manifest, into a new folder."""
    target.mkdir(parents=True)
    for path in source.iterdir():
        if path.suffix in (".db", ".json") or path.name.endswith(("-wal", "-shm")):
            shutil.copy2(path, target / path.name)


# --- templates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # primary key columns
    rowid_key: bool  # an INTEGER PRIMARY KEY: SQLite numbers new rows itself


@dataclass
class Shape:
    """One template row: constants, and for each changed cell either the index of the value
    that is the whole cell, or a format string over the values."""

    table: str
    constants: list[Any]
    whole: list[tuple[int, int]] = field(default_factory=list)
    formats: list[tuple[int, str]] = field(default_factory=list)


# A template table's rows for one copy, from the copy's values (see `_emitter`).
Emit = Callable[[Sequence[str | None]], list[tuple[Any, ...]]]


@dataclass
class Template:
    ticket_id: str
    received: datetime  # naive UTC, as stored
    ids: list[str]  # other keys, each replaced by a fresh id
    events: list[str]  # event ids, each replaced by a fresh UUID
    phone: str | None
    ref: str | None
    # The instants met in its rows: each is a distinct (seconds part, separator) moved and
    # written once per copy, followed by its own fraction and zone as they were.
    seconds: list[tuple[datetime, str]]
    instants: list[tuple[int, str]]  # (index into seconds, fraction+zone)
    shapes: dict[str, list[Shape]]  # by database
    emitters: dict[str, dict[str, Emit]] = field(default_factory=dict)  # database → table →
    history: History | None = None


def _tables(connection: sqlite3.Connection) -> list[Table]:
    names = [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT LIKE '%alembic_version'"
        )
    ]
    tables = []
    for name in names:
        info = list(connection.execute(f'PRAGMA table_info("{name}")'))
        columns = tuple(row[1] for row in info)
        key = tuple(row[1] for row in sorted(info, key=lambda r: r[5]) if row[5])
        rowid_key = len(key) == 1 and any(
            row[1] == key[0] and row[2].upper() == "INTEGER" for row in info
        )
        tables.append(Table(name, columns, key, rowid_key))
    return tables


def _owned(
    everything: dict[str, dict[Table, list[tuple[Any, ...]]]], ticket_id: str
) -> dict[str, dict[Table, list[tuple[Any, ...]]]]:
    """The rows that belong to one ticket, in every database: see the module docstring."""
    linked = {ticket_id}
    owned: dict[str, dict[Table, list[tuple[Any, ...]]]] = {}
    taken: set[tuple[str, int]] = set()
    grew = True
    while grew:
        grew = False
        for database, tables in everything.items():
            for table, rows in tables.items():
                links = [j for j, c in enumerate(table.columns) if c == "id" or c.endswith("_id")]
                for n, row in enumerate(rows):
                    if (table.name, n) in taken or not any(row[j] in linked for j in links):
                        continue
                    taken.add((table.name, n))
                    owned.setdefault(database, {}).setdefault(table, []).append(row)
                    grew = True
                    values = dict(zip(table.columns, row, strict=True))
                    if len(table.key) == 1 and not table.rowid_key:
                        linked.add(str(values[table.key[0]]))
                    if values.get("event_id"):
                        linked.add(str(values["event_id"]))
    return owned


def _template(ticket_id: str, owned: dict[str, dict[Table, list[tuple[Any, ...]]]]) -> Template:
    (intake_row,) = [
        dict(zip(t.columns, r, strict=True))
        for t, rows in owned["intake"].items()
        if t.name == "intake_tickets"
        for r in rows
    ]
    if intake_row.get("cluster_id"):
        # A cluster row is shared by its members, so it is not copied: copies would all claim
        # membership of the template's cluster without being counted in it.
        raise ValueError(f"template {ticket_id} is in cluster {intake_row['cluster_id']}")
    keys: set[str] = set()
    events: set[str] = set()
    for tables in owned.values():
        for table, rows in tables.items():
            for row in rows:
                values = dict(zip(table.columns, row, strict=True))
                if len(table.key) == 1 and not table.rowid_key:
                    keys.add(str(values[table.key[0]]))
                if values.get("event_id"):
                    events.add(str(values["event_id"]))
    keys -= events | {ticket_id}
    # A key built from another (K<assignment>, CB<ticket>-1) follows by substitution.
    ids = sorted(k for k in keys if not any(o != k and o in k for o in keys | {ticket_id}))
    template = Template(
        ticket_id=ticket_id,
        received=datetime.fromisoformat(intake_row["received_at"]),
        ids=ids,
        events=sorted(events),
        phone=intake_row["citizen_phone"],
        ref=intake_row["citizen_ref"],
        seconds=[],
        instants=[],
        shapes={},
    )
    # Fields: 0 ticket id, 1 phone, 2 citizen_ref, then ids, events, instants (added as met).
    literals = {ticket_id: 0}
    if template.phone:
        literals[template.phone] = 1
    if template.ref:
        literals[template.ref] = 2
    for n, key in enumerate(ids):
        literals[key] = 3 + n
    for n, event in enumerate(template.events):
        literals[event] = 3 + len(ids) + n
    instants: dict[str, int] = {}
    seconds: dict[tuple[datetime, str], int] = {}
    pattern = re.compile(
        "|".join(re.escape(k) for k in sorted(literals, key=len, reverse=True))
        + "|"
        + INSTANT.pattern
    )

    def field_of(match: re.Match[str]) -> int:
        text = match.group(0)
        if text in literals:
            return literals[text]
        if text not in instants:
            day, separator, clock, rest = INSTANT.fullmatch(text).groups()  # type: ignore[union-attr]
            instants[text] = 3 + len(ids) + len(template.events) + len(template.instants)
            second = (datetime.fromisoformat(f"{day} {clock}"), separator)
            if second not in seconds:
                seconds[second] = len(template.seconds)
                template.seconds.append(second)
            template.instants.append((seconds[second], rest))
        return instants[text]

    for database, tables in owned.items():
        for table, rows in tables.items():
            for row in rows:
                shape = Shape(table.name, list(row))
                for j, value in enumerate(row):
                    if table.rowid_key and table.columns[j] == table.key[0]:
                        shape.constants[j] = None
                    elif isinstance(value, str):
                        matches = list(pattern.finditer(value))
                        if not matches:
                            continue
                        if len(matches) == 1 and matches[0].group(0) == value:
                            shape.whole.append((j, field_of(matches[0])))
                            continue
                        parts, last = [], 0
                        for m in matches:
                            parts.append(
                                value[last : m.start()].replace("{", "{{").replace("}", "}}")
                            )
                            parts.append(f"{{{field_of(m)}}}")
                            last = m.end()
                        parts.append(value[last:].replace("{", "{{").replace("}", "}}"))
                        shape.formats.append((j, "".join(parts)))
                template.shapes.setdefault(database, []).append(shape)
    for database, shapes in template.shapes.items():
        template.emitters[database] = {
            name: _emitter([shape for shape in shapes if shape.table == name])
            for name in sorted({shape.table for shape in shapes})
        }
    return template


def _emitter(shapes: Sequence[Shape]) -> Emit:
    """One function building a table's rows for a copy: `def emit(v): return [(k0, v[3],
    k2(*v), …), …]`, constants and format methods bound once as its globals. Compiled once per
    template table, it builds ~100 rows per copy at a fraction of the cost of interpreting
    the shapes cell by cell, which was most of the loader's time."""
    names: dict[str, Any] = {}

    def bind(value: Any) -> str:
        name = f"k{len(names)}"
        names[name] = value
        return name

    rows = []
    for shape in shapes:
        cells = [bind(c) if c is not None else "None" for c in shape.constants]
        for j, n in shape.whole:
            cells[j] = f"v[{n}]"
        for j, text in shape.formats:
            cells[j] = f"{bind(text.format)}(*v)"
        rows.append(f"({', '.join(cells)},)")
    source = f"def emit(v):\n    return [{', '.join(rows)}]\n"
    exec(compile(source, "<bulkload emitter>", "exec"), names)
    emit: Emit = names["emit"]
    return emit


def read_templates(
    data_dir: Path, ticket_ids: Sequence[str]
) -> tuple[list[Template], dict[str, list[Table]]]:
    """Compile the template tickets' rows from the store's five SQLite files."""
    everything: dict[str, dict[Table, list[tuple[Any, ...]]]] = {}
    schema: dict[str, list[Table]] = {}
    for database in SERVICE_NAMES:
        with closing(sqlite3.connect(data_dir / f"{database}.db")) as connection:
            schema[database] = _tables(connection)
            everything[database] = {
                t: list(connection.execute(f'SELECT * FROM "{t.name}"')) for t in schema[database]
            }
    templates = [_template(t, _owned(everything, t)) for t in ticket_ids]
    return templates, schema


# --- copies ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Copy:
    """Synthetic ticket i: its template and how far its instants move."""

    i: int
    template: int  # index in the templates
    minutes: int  # how far its instants move

    @property
    def shift(self) -> timedelta:
        return timedelta(minutes=self.minutes)


def _values(
    copy: Copy, t: Template, salt: int, secret: str, rng: random.Random
) -> list[str | None]:
    """The values a copy's cells are made of (the fields of the template's formats)."""
    moved = t.received + copy.shift
    china_day = (moved.replace(tzinfo=UTC)).astimezone(CHINA)
    # The load's salt and the copy's number: unique, where intake's own random part could
    # collide somewhere in a million copies and fail the load on the primary key.
    ticket_id = f"{china_day:%Y%m%d}{salt:04X}{copy.i:06X}"
    phone = f"15{copy.i % 1_000_000_000:09d}" if t.phone else None
    values: list[str | None] = [ticket_id, phone, citizen_ref(phone, secret) if t.ref else None]
    # Other keys random like the platform's own (random hex), so their unique indexes take the
    # shape random keys give them; event ids in time order as the platform makes them
    # (shared.ids), from the copy's receipt: each ticket's events sit together in the indexes.
    values.extend(
        f"{key[0]}{rng.getrandbits(4 * (len(key) - 1)):0{len(key) - 1}X}" for key in t.ids
    )
    received = moved.replace(tzinfo=UTC)
    values.extend(str(time_ordered_uuid(received, rng.getrandbits(80))) for _ in t.events)
    # The seconds parts have no microseconds, so isoformat writes exactly YYYY-MM-DD?HH:MM:SS.
    moved_seconds = [(second + copy.shift).isoformat(separator) for second, separator in t.seconds]
    values.extend(moved_seconds[n] + rest for n, rest in t.instants)
    return values


def copies(
    templates: Sequence[Template], first: int, n: int, months: int, seed: int
) -> Iterator[Copy]:
    """Synthetic tickets first … first+n−1: template by turn, receipt over the past months
    on the hotline's daily curve."""
    rng = random.Random(seed)
    today = datetime.now(CHINA).replace(hour=0, minute=0, second=0, microsecond=0)
    days = max(1, months * 30)
    for i in range(first, first + n):
        template = templates[i % len(templates)]
        hour = rng.choices(range(24), HOURLY)[0]
        day = today - timedelta(days=rng.randrange(1, days + 1))
        at = day + timedelta(hours=hour, minutes=rng.randrange(60))
        received = template.received.replace(tzinfo=UTC)
        # Whole minutes, so fractions of a second (kept as text) stay right.
        minutes = round((at - received).total_seconds() / 60)
        yield Copy(i, i % len(templates), minutes)


def moved(history: History, shift: timedelta) -> History:
    def move(state: Any) -> Any:
        changes = {
            f.name: getattr(state, f.name) + shift
            for f in fields(state)
            if isinstance(getattr(state, f.name), datetime)
        }
        return replace(state, **changes)

    ticket: TicketState = move(history.ticket)
    assignments: dict[str, AssignmentState] = {k: move(a) for k, a in history.assignments.items()}
    return History(ticket, assignments)


class Sums:
    """The aggregates the copies add, summed as analytics' consumer would add them.

    `contributions` places each count on the China-time day of one of the ticket's instants.
    Moving all of them by whole days moves every key's day by as many days and changes
    nothing else (the derived flags were computed on the template's own times); so the
    contributions of a template moved by d days and m minutes (0 ≤ m < 1440) are those of
    the template moved by m minutes, d days later — computed once per template and m, then
    reused. Counts are kept as plain lists and become Tallies at the end."""

    def __init__(self, templates: Sequence[Template]) -> None:
        self.templates = templates
        self._by_minutes: dict[tuple[int, int], list[tuple[Key, list[int]]]] = {}
        self.sums: dict[Key, list[int]] = {}

    def add(self, copy: Copy) -> None:
        history = self.templates[copy.template].history
        if history is None:
            return  # analytics has no facts for this template: nothing to add
        days, minutes = divmod(copy.minutes, 1440)
        cached = self._by_minutes.get((copy.template, minutes))
        if cached is None:
            found = contributions(moved(history, timedelta(minutes=minutes)))
            # In COUNT_NAMES order; every count is an int (as_dict is typed for the rates).
            cached = [(k, [int(c) for c in t.as_dict().values()]) for k, t in found.items()]
            self._by_minutes[(copy.template, minutes)] = cached
        for key, counts in cached:
            key = key._replace(day=key.day + timedelta(days=days))
            into = self.sums.get(key)
            if into is None:
                self.sums[key] = list(counts)
            else:
                for n, count in enumerate(counts):
                    into[n] += count

    def tallies(self) -> dict[Key, Tally]:
        return {
            key: Tally(**dict(zip(COUNT_NAMES, counts, strict=True)))
            for key, counts in self.sums.items()
        }


# --- the load -------------------------------------------------------------------------------------


def _indexes(connection: sqlite3.Connection, tables: Sequence[str]) -> list[tuple[str, str]]:
    marks = ",".join("?" * len(tables))
    return list(
        connection.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks})",
            list(tables),
        )
    )


async def _histories(data_dir: Path, templates: Sequence[Template]) -> None:
    from analytics.service import load_history

    engine = db.create_engine(f"sqlite+aiosqlite:///{data_dir / 'analytics.db'}")
    try:
        async with async_sessionmaker(engine)() as session:
            for t in templates:
                t.history = await load_history(session, t.ticket_id)
    finally:
        await engine.dispose()


async def _add_aggregates(data_dir: Path, sums: dict[Key, Tally]) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{data_dir / 'analytics.db'}")
    try:
        async with async_sessionmaker(engine)() as session, session.begin():
            await aggregates.add(session, sums)
    finally:
        await engine.dispose()


async def _verify(data_dir: Path, ticket_id: str) -> dict[str, int]:
    """Read the last synthetic ticket back through each service's own models; the tickets
    each service now knows."""
    from analytics.models import TicketFact
    from callback.models import CallbackTicket
    from intake.models import Ticket
    from routing.models import RoutedTicket
    from sla.models import SlaTicket

    models: dict[str, Any] = {
        "intake": Ticket,
        "routing": RoutedTicket,
        "sla": SlaTicket,
        "callback": CallbackTicket,
        "analytics": TicketFact,
    }
    known = {}
    for name, model in models.items():
        engine = db.create_engine(f"sqlite+aiosqlite:///{data_dir / f'{name}.db'}")
        try:
            async with async_sessionmaker(engine)() as session:
                row = await session.get(model, ticket_id)
                if row is None:
                    raise AssertionError(f"{name}: synthetic ticket {ticket_id} not found")
                if name == "intake" and (row.status != "closed" or row.received_at.tzinfo is None):
                    raise AssertionError(
                        f"intake: {ticket_id} reads {row.status}, {row.received_at}"
                    )
                known[name] = int(
                    await session.scalar(select(func.count()).select_from(model)) or 0
                )
        finally:
            await engine.dispose()
    return known


def load(data_dir: Path, tickets: int, *, months: int = 6, seed: int = 1) -> dict[str, Any]:
    """Add `tickets` synthetic closed tickets to the stopped store in `data_dir`."""
    manifest = json.loads((data_dir / MANIFEST).read_text())
    templates, schema = read_templates(data_dir, manifest["templates"])
    asyncio.run(_histories(data_dir, templates))
    used = {entry["salt"] for entry in manifest["loads"]}
    salt = random.Random(seed).choice([s for s in range(1, 0xFFFF) if s not in used])
    first = sum(entry["tickets"] for entry in manifest["loads"])
    secret = PlatformSettings().citizen_ref_secret
    started = time.perf_counter()
    bytes_before = sum(p.stat().st_size for p in data_dir.glob("*.db*"))

    loaded = {
        name: sorted({s.table for t in templates for s in t.shapes.get(name, [])})
        for name in SERVICE_NAMES
    }
    columns = {name: {t.name: t.columns for t in tables} for name, tables in schema.items()}
    connections = {
        name: sqlite3.connect(data_dir / f"{name}.db", isolation_level=None)
        for name in SERVICE_NAMES
    }
    dropped: dict[str, list[tuple[str, str]]] = {}
    rows_written: dict[str, int] = {}
    sums = Sums(templates)
    rng = random.Random(f"{seed}/{salt}")
    last = ""
    try:
        for name, connection in connections.items():
            # The loader's connection only: the platform, when it runs, has its own settings.
            connection.execute("PRAGMA synchronous = OFF")
            connection.execute("PRAGMA cache_size = -131072")  # 128 MB
            dropped[name] = _indexes(connection, loaded[name])
            for index, _ in dropped[name]:
                connection.execute(f'DROP INDEX "{index}"')
        batch: list[Copy] = []
        for copy in copies(templates, first, tickets, months, seed):
            batch.append(copy)
            if len(batch) == CHUNK or copy.i == first + tickets - 1:
                last = _write(
                    connections, columns, templates, batch, salt, secret, rng, rows_written, sums
                )
                batch = []
    finally:
        for name, connection in connections.items():
            for _, sql in dropped.get(name, []):
                connection.execute(sql)
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.close()
    asyncio.run(_add_aggregates(data_dir, sums.tallies()))
    known = asyncio.run(_verify(data_dir, last)) if last else {}
    manifest["loads"].append({"salt": salt, "tickets": tickets, "months": months})
    (data_dir / MANIFEST).write_text(json.dumps(manifest, indent=1))
    bytes_after = sum(p.stat().st_size for p in data_dir.glob("*.db*"))
    return {
        "tickets": tickets,
        "stored": first + tickets,
        "seconds": round(time.perf_counter() - started, 1),
        "rows": rows_written,
        "aggregate_keys": len(sums.sums),
        "bytes_per_ticket": round((bytes_after - bytes_before) / max(tickets, 1)),
        "known": known,
        "last": last,
    }


def _write(
    connections: dict[str, sqlite3.Connection],
    columns: dict[str, dict[str, tuple[str, ...]]],
    templates: Sequence[Template],
    batch: Sequence[Copy],
    salt: int,
    secret: str,
    rng: random.Random,
    rows_written: dict[str, int],
    sums: Sums,
) -> str:
    """One chunk of copies: one transaction per database. The last copy's ticket id."""
    by_database: dict[str, dict[str, list[tuple[Any, ...]]]] = {name: {} for name in connections}
    last = ""
    for copy in batch:
        template = templates[copy.template]
        values = _values(copy, template, salt, secret, rng)
        for database, emitters in template.emitters.items():
            into = by_database[database]
            for table, emit in emitters.items():
                rows = into.get(table)
                if rows is None:
                    into[table] = emit(values)
                else:
                    rows.extend(emit(values))
        sums.add(copy)
        last = values[0] or ""
    for database, tables in by_database.items():
        connection = connections[database]
        connection.execute("BEGIN")
        for table, rows in tables.items():
            names = columns[database][table]
            marks = ", ".join("?" * len(names))
            quoted = ", ".join(f'"{c}"' for c in names)
            connection.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})', rows)
            rows_written[table] = rows_written.get(table, 0) + len(rows)
        connection.execute("COMMIT")
    return last


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bulkload")
    commands = parser.add_subparsers(dest="command", required=True)
    capture_command = commands.add_parser("capture", help="play the template tickets")
    capture_command.add_argument("workdir", type=Path)
    load_command = commands.add_parser("load", help="add synthetic closed tickets")
    load_command.add_argument("data_dir", type=Path)
    load_command.add_argument("--tickets", type=int, required=True)
    load_command.add_argument("--months", type=int, default=6)
    load_command.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.command == "capture":
        print(asyncio.run(capture(args.workdir)))
        return
    summary = load(args.data_dir, args.tickets, months=args.months, seed=args.seed)
    import resource

    summary["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print("BULKLOAD_JSON " + json.dumps(summary), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])


# --- for the benches ------------------------------------------------------------------------------

# Disk per synthetic ticket measured on the demo city's templates (the loader reports the
# figure of each load), used to refuse a load that would not fit before starting it.
BYTES_PER_TICKET = 32_000
DISK_MARGIN = 2 * 1024**3


def room_for(where: Path, tickets: int, bytes_per_ticket: int = BYTES_PER_TICKET) -> str | None:
    """Why `tickets` synthetic tickets would not fit on the disk under `where`, or None."""
    needed = int(tickets * bytes_per_ticket * 1.3) + DISK_MARGIN
    free = shutil.disk_usage(where).free
    if free >= needed:
        return None
    return f"{tickets:,} tickets need about {needed / 1024**3:.0f} GB, {free / 1024**3:.0f} GB free"


async def load_store(data_dir: Path, tickets: int, months: int = 6) -> dict[str, Any]:
    """Run the loader on a stopped store in its own process (its memory is its own, and it
    keeps both cores while the platform is down); its summary."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bench.bulkload",
        "load",
        str(data_dir),
        f"--tickets={tickets}",
        f"--months={months}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **servers.bench_secrets()},  # it reads what the platform wrote
    )
    stdout, stderr = await process.communicate()
    for line in stdout.decode().splitlines():
        if line.startswith("BULKLOAD_JSON "):
            summary: dict[str, Any] = json.loads(line.removeprefix("BULKLOAD_JSON "))
            return summary
    raise RuntimeError(
        f"the bulk loader exited with {process.returncode}:\n{stderr.decode()[-3000:]}"
    )


def stored(data_dir: Path) -> int:
    """Synthetic tickets the loads of a store added (its manifest)."""
    manifest = json.loads((data_dir / MANIFEST).read_text())
    return sum(entry["tickets"] for entry in manifest["loads"])


async def prepare_store(base: Path, store: Path, tickets: int, months: int = 6) -> str:
    """A stopped store with `tickets` synthetic tickets in `store`, and a line saying how it came
    about: a copy of `BENCH_LOADED_STORE` if that store (kept from an earlier
    `python -m tests.bench.bulkload load`, its secrets in the environment) holds exactly as
    many — a million take half an hour to load and a few minutes to copy — else a copy of the
    templates `base`, loaded now."""
    kept = os.environ.get("BENCH_LOADED_STORE")
    if kept and stored(Path(kept)) == tickets:
        started = time.perf_counter()
        await asyncio.to_thread(copy_store, Path(kept), store)
        return f"{tickets:,} stored: copied from {kept} in {time.perf_counter() - started:,.0f} s"
    copy_store(base, store)
    if not tickets:
        return f"0 stored: the templates ({base})"
    summary = await load_store(store, tickets, months)
    return (
        f"{tickets:,} stored: loaded in {summary['seconds']:,.0f} s, "
        f"{summary['bytes_per_ticket']:,} bytes/ticket, "
        f"loader peak RSS {summary['peak_rss_mb']:,.0f} MB"
    )
