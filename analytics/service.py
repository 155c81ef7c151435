"""analytics' use cases: what analytics consumes and the rules it folds with (the folding
itself is analytics.consumer); answer figures, rankings, hot topics and reports from the
aggregates, under the formula version in force."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from analytics import (
    aggregates,
    directory,
    domain,
    factrows,
    rankings,
    rates,
    rollup,
    topics,
    versions,
)
from analytics.aggregates import Filters
from analytics.config import settings
from analytics.facts import (
    PROJECTED,
    Exclusions,
    History,
)
from analytics.models import MonthlyAggregate, TicketFact
from analytics.rates import MetricConfig, Tally
from shared.errors import InvalidInput
from shared.events import Payload
from shared.events.routing import AreaChanged, UnitChanged
from shared.events.sla import CalendarChanged

__all__ = ["CONSUMED", "LEARNED", "load_history"]

# Reference data analytics learns (routing's directory, sla's calendar) besides the tickets.
LEARNED: tuple[type[Payload], ...] = (AreaChanged, UnitChanged, CalendarChanged)
LEARNED_TYPES = tuple(model.event_type for model in LEARNED)  # as stored, for the rebuild
CONSUMED = (*PROJECTED, *LEARNED)


def configuration() -> versions.Configuration:
    """The configuration in force (analytics.config), as one formula version names it."""
    s = settings()
    return versions.Configuration(
        partly_solved_weight=s.partly_solved_weight,
        basically_satisfied_weight=s.basically_satisfied_weight,
        composite_weights=dict(s.composite_weights),
        excluded_close_reasons=tuple(s.excluded_close_reasons),
        excluded_kinds=tuple(s.excluded_kinds),
        baseline_periods=s.baseline_periods,
        spike_ratio=s.spike_ratio,
        spike_min_count=s.spike_min_count,
        bottom_n=s.bottom_n,
        bottom_months=s.bottom_months,
        ranking_tiers=s.ranking_tiers,
    )


def weights() -> MetricConfig:
    """The weights in force, without their version's label (for callers that show none)."""
    return versions.metric_config(configuration(), "")


async def metric_config(session: AsyncSession, now: datetime) -> MetricConfig:
    """The weights in force and the label of their formula version (stored on first use; call
    it before the request's other reads)."""
    config = configuration()
    return versions.metric_config(config, await versions.in_force(session, config, now))


def exclusions() -> Exclusions:
    s = settings()
    return Exclusions(close_reasons=tuple(s.excluded_close_reasons), kinds=tuple(s.excluded_kinds))


# --- projection (analytics.consumer) ---------------------------------------------------------


async def load_history(session: AsyncSession, ticket_id: str) -> History:
    """One ticket's history as its fact rows hold it (the consumer reads a run's at once)."""
    return (await factrows.load(session, [ticket_id])).histories[ticket_id]


# --- units, areas and filters --------------------------------------------------------------


async def units(session: AsyncSession) -> dict[str, tuple[str | None, str | None]]:
    """Every unit analytics knows: unit id → (name, class), as routing's events told it."""
    d = await directory.current(session)
    return {uid: (u.name, u.unit_class) for uid, u in d.units.items()}


async def area_known(session: AsyncSession, code: str) -> bool:
    if code in (await directory.current(session)).areas:
        return True
    # The roll-up by area × category: a few rows per month, where the daily rows are millions.
    c = MonthlyAggregate.__table__.c
    found = await session.scalar(
        select(c.area_code)
        .where(c.grain == rollup.grain_of(["area_code", "category"]))
        .where(c.area_code.like(f"{code}%"))
        .limit(1)
    )
    return found is not None


@dataclass(frozen=True)
class Query:
    """A validated figures query."""

    first: date
    last: date
    filters: Filters = field(default_factory=Filters)
    unit_class: str | None = None


async def make_filters(
    session: AsyncSession,
    *,
    unit_id: str | None,
    unit_class: str | None,
    area_code: str | None,
    category: str | None,
    channel: str | None,
) -> Filters:
    """Check the filters against what analytics knows; unknown units or areas are bad input."""
    known = await units(session)
    ids: list[str] | None = None
    if unit_id is not None:
        if unit_id not in known:
            raise InvalidInput(f"unit_id: no unit '{unit_id}' is known.", field="unit_id")
        ids = [unit_id]
    if unit_class is not None:
        if unit_class not in domain.UNIT_CLASSES:
            raise InvalidInput(
                f"unit_class: '{unit_class}' is not one of {', '.join(domain.UNIT_CLASSES)}.",
                field="unit_class",
            )
        in_class = [u for u, (_, cls) in known.items() if cls == unit_class]
        ids = [u for u in ids if u in in_class] if ids is not None else in_class
    if area_code is not None and not await area_known(session, area_code):
        raise InvalidInput(f"area: no area '{area_code}' is known.", field="area")
    return Filters(unit_ids=ids, area_code=area_code, category=category, channel=channel)


# --- figures --------------------------------------------------------------------------------


def figures(tally: Tally, config: MetricConfig) -> dict[str, Any]:
    """Every rate, the average handling time, the composite score and the counts."""
    all_rates = rates.all_rates(tally, config)
    return {
        **all_rates,
        "average_handling_days": rates.average_handling_days(tally),
        "composite_score": rates.composite_score(all_rates, config),
        "counts": tally,
    }


_STORED_FOR = {
    "unit": "unit_id",
    "unit_class": "unit_id",
    "area": "area_code",
    "district": "area_code",
    "street": "area_code",
    "category": "category",
    "top_category": "category",
    "channel": "channel",
}


async def grouped(
    session: AsyncSession,
    *,
    first: date,
    last: date,
    filters: Filters,
    group_by: Sequence[str],
) -> list[tuple[dict[str, Any], Tally]]:
    """Σ counts over the period, grouped by `group_by` (stored or derived fields)."""
    # Months, quarters and years are whole months (the roll-up); days and weeks need days.
    stored = sorted(
        {
            _STORED_FOR.get(g, "month" if g in ("month", "quarter", "year") else "day")
            for g in group_by
        },
    )
    rows = await aggregates.sums(session, first=first, last=last, filters=filters, by=stored)
    if not group_by:
        return rows
    known = await units(session) if {"unit", "unit_class"} & set(group_by) else {}
    d = await directory.current(session)
    folded: dict[tuple[Any, ...], tuple[dict[str, Any], Tally]] = {}
    for row, tally in rows:
        key: dict[str, Any] = {}
        for g in group_by:
            if g == "unit":
                key["unit_id"] = row["unit_id"] or None
                key["unit_name"] = known.get(row["unit_id"], (None, ""))[0]
            elif g == "unit_class":
                key["unit_class"] = known.get(row["unit_id"], (None, None))[1]
            elif g == "area":
                key["area_code"] = row["area_code"] or None
                key["area_name"] = d.area_name(row["area_code"]) if row["area_code"] else None
            elif g in ("district", "street"):
                code = d.area_at_level(row["area_code"], g) if row["area_code"] else None
                key[g] = code
                key[f"{g}_name"] = d.area_name(code) if code else None
            elif g == "category":
                key["category"] = row["category"] or None
            elif g == "top_category":
                key["top_category"] = domain.top_category(row["category"]) or None
            elif g == "channel":
                key["channel"] = row["channel"] or None
            else:
                start = domain.period_start(row["month"] if "month" in row else row["day"], g)
                key["period"] = domain.period_label(start, g)
                key["period_from"] = max(start, first)
                key["period_to"] = min(domain.period_end(start, g), last)
        k = tuple(sorted((n, str(v)) for n, v in key.items()))
        prior = folded.get(k)
        folded[k] = (key, prior[1] + tally if prior else tally)
    return sorted(folded.values(), key=lambda kv: tuple(str(v) for v in kv[0].values()))


async def period_tally(session: AsyncSession, first: date, last: date, filters: Filters) -> Tally:
    ((_, tally),) = await aggregates.sums(session, first=first, last=last, filters=filters)
    return tally


# --- rankings -------------------------------------------------------------------------------


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    return first, domain.period_end(first, "month")


async def unit_tallies(
    session: AsyncSession, first: date, last: date, unit_class: str | None
) -> dict[str, Tally]:
    known = await units(session)
    rows = await aggregates.sums(
        session, first=first, last=last, filters=Filters(), by=("unit_id",)
    )
    return {
        row["unit_id"]: tally
        for row, tally in rows
        if row["unit_id"]
        and (unit_class is None or known.get(row["unit_id"], ("", ""))[1] == unit_class)
    }


async def ranking(
    session: AsyncSession,
    *,
    first: date,
    last: date,
    unit_class: str | None,
    metric: str,
    config: MetricConfig | None = None,
) -> list[rankings.Ranked]:
    tallies = await unit_tallies(session, first, last, unit_class)
    return rankings.rank_units(tallies, metric, config or weights())


async def flagged(
    session: AsyncSession,
    *,
    month: date,
    unit_class: str | None,
    metric: str,
    n: int,
    months: int,
    config: MetricConfig,
) -> tuple[list[str], list[tuple[date, list[rankings.Ranked]]]]:
    """末位约谈: units in the bottom n of their class in each of `months` months to `month`."""
    history: list[tuple[date, list[rankings.Ranked]]] = []
    start = month.replace(day=1)
    for _ in range(months):
        first, last = month_bounds(start)
        ranked = await ranking(
            session, first=first, last=last, unit_class=unit_class, metric=metric, config=config
        )
        history.append((first, rankings.bottom(ranked, n)))
        start = (first - timedelta(days=1)).replace(day=1)
    history.reverse()
    units_flagged = rankings.flagged_for_talks([{r.unit_id for r in b} for _, b in history])
    return sorted(units_flagged), history


# --- hot topics --------------------------------------------------------------------------


async def topic_counts(
    session: AsyncSession,
    first: date,
    last: date,
    *,
    category_level: int,
    area_level: str | None,
    filters: Filters,
) -> dict[tuple[str, str], int]:
    rows = await aggregates.sums(
        session,
        first=first,
        last=last,
        filters=filters,
        by=("category", "area_code"),
        counts=("received",),
    )
    d = await directory.current(session)
    out: dict[tuple[str, str], int] = {}
    for row, tally in rows:
        cat = domain.category_at_level(row["category"], category_level)
        area = d.area_at_level(row["area_code"], area_level) if area_level else row["area_code"]
        if tally.received:
            out[(cat, area)] = out.get((cat, area), 0) + tally.received
    return out


async def hot_topics(
    session: AsyncSession,
    *,
    first: date,
    granularity: str,
    category_level: int,
    area_level: str | None,
    filters: Filters,
) -> list[topics.Topic]:
    last = domain.period_end(first, granularity)
    args = {"category_level": category_level, "area_level": area_level, "filters": filters}
    current = await topic_counts(session, first, last, **args)  # type: ignore[arg-type]
    history = []
    start = first
    for _ in range(settings().baseline_periods):
        start, end = domain.previous_period(start, granularity)
        history.append(await topic_counts(session, start, end, **args))  # type: ignore[arg-type]
    previous = history[0] if history else {}
    return topics.topics(current, previous, history)


async def monthly_problem(
    session: AsyncSession, *, month: date, category_level: int, area_level: str | None
) -> list[topics.Candidate]:
    """每月一题 candidates for the month: repeats from the facts (same citizen, same topic),
    unsolved verdicts from the aggregates."""
    first, last = month_bounds(month)
    start, end = domain.period_bounds(first, last)
    d = await directory.current(session)

    def topic(category: str | None, area: str | None) -> tuple[str, str]:
        cat = domain.category_at_level(category or "", category_level)
        code = area or ""
        return cat, (d.area_at_level(code, area_level) if area_level and code else code)

    rows = (
        await session.execute(
            select(
                TicketFact.category,
                TicketFact.area_code,
                TicketFact.citizen_ref,
                func.count().label("n"),
            )
            .where(
                TicketFact.received_at >= start,
                TicketFact.received_at < end,
                TicketFact.citizen_ref.is_not(None),
                TicketFact.excluded.is_(False),
            )
            .group_by(TicketFact.category, TicketFact.area_code, TicketFact.citizen_ref)
        )
    ).all()
    per_citizen: dict[tuple[str, str, str], int] = {}
    for category, area, citizen, n in rows:
        cat, code = topic(category, area)
        citizen = citizen or ""
        per_citizen[(cat, code, citizen)] = per_citizen.get((cat, code, citizen), 0) + n
    unsolved: dict[tuple[str, str], int] = {}
    tickets: dict[tuple[str, str], int] = {}
    for row, tally in await aggregates.sums(
        session, first=first, last=last, filters=Filters(), by=("category", "area_code")
    ):
        k = topic(row["category"], row["area_code"])
        unsolved[k] = unsolved.get(k, 0) + tally.unsolved + tally.partly_solved
        tickets[k] = tickets.get(k, 0) + tally.received
    return topics.monthly_problem_candidates(per_citizen, unsolved, tickets)
