"""The daily aggregates: add deltas (incrementally, in the inbox transaction) and sum them for
a period. Figures over any period are `SUM`s over at most days × units × areas × categories ×
channels rows, however many tickets there are."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.facts import Key
from analytics.models import DailyAggregate
from analytics.rates import COUNT_NAMES, Tally
from shared.db import dialect_name

TABLE = DailyAggregate.__table__
STORED = ("day", "unit_id", "area_code", "category", "channel")


async def add(session: AsyncSession, deltas: Mapping[Key, Tally]) -> None:
    """Add each delta to its row (created at zero when new)."""
    if not deltas:
        return
    dialect = postgresql if dialect_name(session) == "postgresql" else sqlite
    rows = [{**key._asdict(), **tally.as_dict()} for key, tally in deltas.items()]
    for chunk in range(0, len(rows), 500):
        statement = dialect.insert(TABLE).values(rows[chunk : chunk + 500])
        statement = statement.on_conflict_do_update(
            index_elements=list(STORED),
            set_={n: TABLE.c[n] + statement.excluded[n] for n in COUNT_NAMES},
        )
        await session.execute(statement)
    # A ticket that moves (its lead unit learned, its callback redone) leaves rows at zero
    # behind: drop them, so the table holds exactly what a rebuild would write.
    emptied = [key for key, tally in deltas.items() if any(v < 0 for v in tally.as_dict().values())]
    if emptied:
        c = TABLE.c
        await session.execute(
            TABLE.delete().where(
                tuple_(*(c[n] for n in STORED)).in_([tuple(k) for k in emptied]),
                *(c[n] == 0 for n in COUNT_NAMES),
            )
        )


@dataclass(frozen=True)
class Filters:
    """What narrows a query: units (None = all), an area and its sub-areas, a category and its
    sub-categories, a channel."""

    unit_ids: Sequence[str] | None = None
    area_code: str | None = None
    category: str | None = None
    channel: str | None = None

    def where(self) -> list[ColumnElement[bool]]:
        c = TABLE.c
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


async def sums(
    session: AsyncSession,
    *,
    first: date,
    last: date,
    filters: Filters,
    by: Sequence[str] = (),
) -> list[tuple[dict[str, Any], Tally]]:
    """Σ counts over [first, last] (whole days), grouped by stored columns `by`."""
    c = TABLE.c
    group = [c[name] for name in by]
    statement = (
        select(*group, *(func.coalesce(func.sum(c[n]), 0).label(n) for n in COUNT_NAMES))
        .where(and_(c.day >= first, c.day <= last, *filters.where()))
        .group_by(*group)
    )
    out: list[tuple[dict[str, Any], Tally]] = []
    for row in (await session.execute(statement)).mappings():
        key = {name: row[name] for name in by}
        tally = Tally(**{n: int(row[n] or 0) for n in COUNT_NAMES})
        out.append((key, tally))
    return out
