"""The monthly roll-up's rules, pure: which monthly rows a daily delta changes, which grain of
the roll-up answers a query, and which days of a period only the daily rows can answer.

`analytics_monthly` holds, for each month, the daily counts summed at a few *grains*. A grain
is the set of dimensions it keeps (a bit mask); the dimensions it drops are stored as '' and
summed over. The full grain keeps all four (unit × area × category × channel) and answers any
filter; the coarser ones hold a handful of rows per month, so the common queries (a month's
city-wide rates, the monthly ranking by unit, hot topics by category × area) read about as many
rows as they return, however many tickets there are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import NamedTuple

from analytics.facts import Key
from analytics.rates import Tally

DIMENSIONS = ("unit_id", "area_code", "category", "channel")
BIT = {name: 1 << i for i, name in enumerate(DIMENSIONS)}


def grain_of(dimensions: Iterable[str]) -> int:
    """The bit mask of the dimensions named."""
    mask = 0
    for name in dimensions:
        mask |= BIT[name]
    return mask


FULL = grain_of(DIMENSIONS)
# The grains kept, coarsest first: the city's total; by unit (rankings, a unit's or a class's
# rates); by area × category (hot topics, area and category filters); everything.
GRAINS = (0, grain_of(["unit_id"]), grain_of(["area_code", "category"]), FULL)


def dimensions_of(grain: int) -> tuple[str, ...]:
    return tuple(name for name in DIMENSIONS if grain & BIT[name])


class MonthKey(NamedTuple):
    """Where counts land in the monthly roll-up: '' for a dimension the grain sums over (and,
    at every grain, for a value not known)."""

    grain: int
    month: date
    unit_id: str
    area_code: str
    category: str
    channel: str


def month_of(day: date) -> date:
    return day.replace(day=1)


def rollup(deltas: Mapping[Key, Tally], grains: Iterable[int] = GRAINS) -> dict[MonthKey, Tally]:
    """The changes to the monthly rows that the daily `deltas` make, at every grain; keys whose
    changes cancel out are left out (a month's row moves only when its sum does)."""
    out: dict[MonthKey, Tally] = {}
    kept = tuple(grains)
    for key, tally in deltas.items():
        month = month_of(key.day)
        values = (key.unit_id, key.area_code, key.category, key.channel)
        for grain in kept:
            mk = MonthKey(
                grain,
                month,
                *(v if grain & BIT[n] else "" for n, v in zip(DIMENSIONS, values, strict=True)),
            )
            prior = out.get(mk)
            out[mk] = prior + tally if prior is not None else tally
    return {k: t for k, t in out.items() if not t.is_zero()}


def choose_grain(needed: Iterable[str]) -> int:
    """The coarsest grain that keeps every dimension a query filters or groups on."""
    mask = grain_of(needed)
    return next(g for g in GRAINS if g & mask == mask)


class Split(NamedTuple):
    """A period [first, last] cut into whole months (answered from the roll-up) and the days
    around them (answered from the daily rows)."""

    months: tuple[date, date] | None  # first day of the first and of the last whole month
    days: tuple[tuple[date, date], ...]  # inclusive day ranges


def split_period(first: date, last: date) -> Split:
    """Whole months inside [first, last] and the partial months at either edge."""
    if last < first:
        return Split(None, ())
    start = first if first.day == 1 else _next_month(first)
    after = _next_month(last)  # the first day after the month holding `last`
    end = after if last == after - timedelta(days=1) else month_of(last)  # exclusive
    if start >= end:
        return Split(None, ((first, last),))
    edges = []
    if first < start:
        edges.append((first, start - timedelta(days=1)))
    if end <= last:
        edges.append((end, last))
    last_month = month_of(end - timedelta(days=1))
    return Split((start, last_month), tuple(edges))


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
