"""The aggregates: add deltas (incrementally, in the inbox transaction) to the daily rows and
to their monthly roll-up, and sum them for a period.

A period's whole months are summed from `analytics_monthly`, at the coarsest grain that keeps
every dimension the query filters or groups on (analytics.rollup); only the days of a partial
month at either edge, and queries grouped by day or week, read `analytics_daily`. Either way
figures are `SUM`s over rows whose number depends on the combinations of days (or months),
units, areas, categories and channels, never on the number of tickets.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Date,
    Insert,
    Table,
    and_,
    cast,
    func,
    insert,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from analytics import rollup
from analytics.facts import Key
from analytics.models import DailyAggregate, MonthlyAggregate
from analytics.rates import COUNT_NAMES, Tally
from shared.db import dialect_name

TABLE = DailyAggregate.__table__
DAILY: Table = DailyAggregate.__table__
MONTHLY: Table = MonthlyAggregate.__table__
STORED = ("day", "unit_id", "area_code", "category", "channel")
MONTHLY_STORED = ("grain", "month", "unit_id", "area_code", "category", "channel")

_daily_only: ContextVar[bool] = ContextVar("analytics_daily_only", default=False)


@contextmanager
def daily_only() -> Iterator[None]:
    """Answer every query from the daily rows (the roll-up's reference, for tests and bench)."""
    token = _daily_only.set(True)
    try:
        yield
    finally:
        _daily_only.reset(token)


async def add(session: AsyncSession, deltas: Mapping[Key, Tally]) -> None:
    """Add each delta to its daily row and to the monthly rows that sum it (rows are created
    at zero when new, and dropped when they come back to zero)."""
    if not deltas:
        return
    await _add(session, DAILY, STORED, deltas)
    await _add(session, MONTHLY, MONTHLY_STORED, rollup.rollup(deltas))


async def _add(
    session: AsyncSession,
    table: Table,
    stored: Sequence[str],
    deltas: Mapping[Any, Tally],
) -> None:
    if not deltas:
        return
    # In key order, so concurrent consumers lock shared rows (a month's total) in one order.
    keys = sorted(deltas)
    rows = [{**key._asdict(), **deltas[key].as_dict()} for key in keys]
    # One statement, many parameter sets: compiled once and cached, where a multi-row VALUES
    # was compiled anew for every batch (a tenth of the embedded platform's time under load).
    await session.execute(_upsert(dialect_name(session), table, tuple(stored)), rows)
    # A ticket that moves (its lead unit learned, its callback redone) leaves rows at zero
    # behind: drop them, so the table holds exactly what a rebuild would write.
    emptied = [k for k in keys if any(v < 0 for v in deltas[k].as_dict().values())]
    for chunk in range(0, len(emptied), 400):
        c = table.c
        await session.execute(
            table.delete().where(
                tuple_(*(c[n] for n in stored)).in_(
                    [tuple(k) for k in emptied[chunk : chunk + 400]]
                ),
                *(c[n] == 0 for n in COUNT_NAMES),
            )
        )


@cache
def _upsert(dialect: str, table: Table, stored: tuple[str, ...]) -> Insert:
    """Add a row's counts to the stored row with the same dimensions, or insert it."""
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    return statement.on_conflict_do_update(
        index_elements=list(stored),
        set_={n: table.c[n] + statement.excluded[n] for n in COUNT_NAMES},
    )


@dataclass(frozen=True)
class Filters:
    """What narrows a query: units (None = all), an area and its sub-areas, a category and its
    sub-categories, a channel."""

    unit_ids: Sequence[str] | None = None
    area_code: str | None = None
    category: str | None = None
    channel: str | None = None

    def dimensions(self) -> tuple[str, ...]:
        """The stored dimensions these filters look at."""
        used = {
            "unit_id": self.unit_ids is not None,
            "area_code": bool(self.area_code),
            "category": bool(self.category),
            "channel": bool(self.channel),
        }
        return tuple(name for name, on in used.items() if on)

    def where(self, table: Table = DAILY) -> list[ColumnElement[bool]]:
        c = table.c
        out: list[ColumnElement[bool]] = []
        if self.unit_ids is not None:
            out.append(c.unit_id.in_(list(self.unit_ids)))
        if self.area_code:
            out.append(or_(c.area_code == self.area_code, c.area_code.like(f"{self.area_code}%")))
        if self.category:
            out.append(or_(c.category == self.category, c.category.like(f"{self.category}/%")))
        if self.channel:
            out.append(c.channel == self.channel)
        return out


class Plan(NamedTuple):
    """How a period is read: the monthly grain and months, and the daily day ranges."""

    grain: int | None
    months: tuple[date, date] | None
    days: tuple[tuple[date, date], ...]


def plan(first: date, last: date, filters: Filters, by: Sequence[str]) -> Plan:
    """Whole months from the roll-up, partial months (and anything grouped by day) from the
    daily rows. Pure."""
    if "day" in by or _daily_only.get():
        return Plan(None, None, ((first, last),) if first <= last else ())
    split = rollup.split_period(first, last)
    if split.months is None:
        return Plan(None, None, split.days)
    needed = {*filters.dimensions(), *(b for b in by if b in rollup.DIMENSIONS)}
    return Plan(rollup.choose_grain(needed), split.months, split.days)


async def sums(
    session: AsyncSession,
    *,
    first: date,
    last: date,
    filters: Filters,
    by: Sequence[str] = (),
    counts: Sequence[str] = COUNT_NAMES,
) -> list[tuple[dict[str, Any], Tally]]:
    """Σ counts over [first, last] (whole days), grouped by stored columns `by`: any of the
    dimensions, and `day` or `month` (the first day of the month). Only the `counts` named are
    summed (the others are 0): hot topics need `received` alone over thousands of groups."""
    p = plan(first, last, filters, by)
    parts: list[list[tuple[dict[str, Any], Tally]]] = []
    if p.months is not None and p.grain is not None:
        c = MONTHLY.c
        where = [c.grain == p.grain, c.month >= p.months[0], c.month <= p.months[1]]
        parts.append(await _sum(session, MONTHLY, "month", where, filters, by, counts))
    for start, end in p.days:
        c = DAILY.c
        where = [c.day >= start, c.day <= end]
        parts.append(await _sum(session, DAILY, "day", where, filters, by, counts))
    merged: dict[tuple[Any, ...], tuple[dict[str, Any], Tally]] = {}
    for part in parts:
        for key, tally in part:
            k = tuple(key[name] for name in by)
            prior = merged.get(k)
            merged[k] = (key, prior[1] + tally) if prior else (key, tally)
    if not by:
        return [({}, merged[()][1] if () in merged else Tally())]
    return list(merged.values())


async def _sum(
    session: AsyncSession,
    table: Table,
    period: str,
    where: list[ColumnElement[bool]],
    filters: Filters,
    by: Sequence[str],
    counts: Sequence[str],
) -> list[tuple[dict[str, Any], Tally]]:
    c = table.c
    # A daily part grouped by month groups by day; the days are folded into their month below.
    group = [c[period] if name in ("day", "month") else c[name] for name in by]
    statement = (
        select(*group, *(func.coalesce(func.sum(c[n]), 0).label(n) for n in counts))
        .where(and_(*where, *filters.where(table)))
        .group_by(*group)
    )
    out: list[tuple[dict[str, Any], Tally]] = []
    for row in await session.execute(statement):
        key = dict(zip(by, row[: len(by)], strict=True))
        if "month" in key and period == "day":
            key["month"] = rollup.month_of(key["month"])
        tally = Tally(**{n: int(v or 0) for n, v in zip(counts, row[len(by) :], strict=True)})
        out.append((key, tally))
    return out


async def refill_monthly(session: AsyncSession) -> None:
    """Recompute the whole roll-up from the daily rows, in SQL (a repair tool, and how a bulk
    load fills it): the same rows the incremental path and a rebuild keep."""
    d = DAILY.c
    if dialect_name(session) == "postgresql":
        month: ColumnElement[Any] = cast(func.date_trunc(literal_column("'month'"), d.day), Date)
    else:
        month = func.date(d.day, literal_column("'start of month'"))
    await session.execute(MONTHLY.delete())
    for grain in rollup.GRAINS:
        kept = rollup.dimensions_of(grain)
        columns = [d[n] if n in kept else literal_column("''") for n in rollup.DIMENSIONS]
        query = (
            select(
                literal_column(str(grain)),
                month,
                *columns,
                *(func.sum(d[n]) for n in COUNT_NAMES),
            )
            .group_by(month, *(d[n] for n in kept))
            .having(or_(*(func.sum(d[n]) != 0 for n in COUNT_NAMES)))
        )
        await session.execute(insert(MONTHLY).from_select([*MONTHLY_STORED, *COUNT_NAMES], query))
