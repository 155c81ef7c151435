"""analytics' rules besides the rates: periods, granularity, grouping, handling time.
Pure functions: no database, no HTTP, no clock reads."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import get_args

from shared.calendar import WorkingCalendar, counted_between
from shared.clock import CHINA
from shared.errors import InvalidInput
from shared.events.routing import UnitClass

MAX_PERIOD_DAYS = 366 * 5

# How long a period may be for each granularity (days): more buckets than this is a mistake.
GRANULARITIES = ("day", "week", "month", "quarter", "year")
MAX_DAYS_FOR = {"day": 366, "week": 366 * 3, "month": 366 * 5, "quarter": 366 * 5, "year": 366 * 5}

# What `group_by` may name: the stored dimensions, the derived ones, and the periods.
DIMENSIONS = ("unit", "unit_class", "area", "district", "street", "category", "channel")
GROUP_BY_FIELDS = (*DIMENSIONS, "top_category", *GRANULARITIES)

# Unit classes for rankings (单位类别): routing decides each unit's (routing.domain.unit_class_of)
# and analytics learns it from routing's events (analytics.directory).
UNIT_CLASSES: tuple[str, ...] = get_args(UnitClass)


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in China time: a period is whole local days, end inclusive."""
    check_period(start, end)
    return (
        datetime.combine(start, time(0), tzinfo=CHINA),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=CHINA),
    )


def check_period(start: date, end: date, granularity: str | None = None) -> None:
    if end < start:
        raise InvalidInput("to: the period ends before it starts.", field="to")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise InvalidInput(f"to: a period may span at most {MAX_PERIOD_DAYS} days.", field="to")
    if granularity and (end - start).days >= MAX_DAYS_FOR[granularity]:
        raise InvalidInput(
            f"group_by: grouping by {granularity} allows periods of at most "
            f"{MAX_DAYS_FOR[granularity]} days; narrow 'from'/'to' or choose a coarser period.",
            field="group_by",
        )


def local_day(instant: datetime) -> date:
    """The China-time calendar day an instant falls on: the date that places it in a period."""
    return instant.astimezone(CHINA).date()


def period_start(day: date, granularity: str) -> date:
    """The first day of the day/week (Monday)/month/quarter/year containing `day`."""
    if granularity == "day":
        return day
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    if granularity == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if granularity == "year":
        return date(day.year, 1, 1)
    raise InvalidInput(f"period: unknown period '{granularity}'.", field="period")


def period_end(first: date, granularity: str) -> date:
    """The last day of the period that starts on `first`."""
    if granularity == "day":
        return first
    if granularity == "week":
        return first + timedelta(days=6)
    months = {"month": 1, "quarter": 3, "year": 12}[granularity]
    y, m = divmod(first.month - 1 + months, 12)
    return date(first.year + y, m + 1, 1) - timedelta(days=1)


def period_label(first: date, granularity: str) -> str:
    if granularity == "day":
        return first.isoformat()
    if granularity == "week":
        year, week, _ = first.isocalendar()
        return f"{year}-W{week:02d}"
    if granularity == "month":
        return f"{first.year}-{first.month:02d}"
    if granularity == "quarter":
        return f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    return str(first.year)


def previous_period(first: date, granularity: str) -> tuple[date, date]:
    """The period just before the one that starts on `first`."""
    start = period_start(first - timedelta(days=1), granularity)
    return start, period_end(start, granularity)


def parse_group_by(raw: str | None) -> tuple[str, ...]:
    """`group_by=unit,month` → ("unit", "month"); at most one period granularity."""
    if not raw:
        return ()
    names = tuple(n.strip() for n in raw.split(",") if n.strip())
    unknown = [n for n in names if n not in GROUP_BY_FIELDS]
    if unknown:
        raise InvalidInput(
            f"group_by: unknown field(s) {', '.join(unknown)}; "
            f"choose from {', '.join(GROUP_BY_FIELDS)}.",
            field="group_by",
        )
    if len([n for n in names if n in GRANULARITIES]) > 1:
        raise InvalidInput("group_by: name at most one period granularity.", field="group_by")
    if len(set(names)) != len(names):
        raise InvalidInput("group_by: a field is named twice.", field="group_by")
    return names


def granularity_of(group_by: Iterable[str]) -> str | None:
    return next((g for g in group_by if g in GRANULARITIES), None)


def top_category(category: str) -> str:
    return category.split("/", 1)[0]


def category_at_level(category: str, level: int) -> str:
    return "/".join(category.split("/")[:level])


# --- handling time -----------------------------------------------------------------------


def handling_days(start: datetime, end: datetime, calendar: WorkingCalendar) -> float:
    """Working days from `start` to `end` in fractions of a day (China time), on sla's
    calendar (shared.calendar, the one rule): the part of each working day inside [start, end]
    counts; weekends and holidays do not."""
    counted = counted_between(start, end, "working_days", calendar)
    return round(counted.total_seconds() / 86400, 6)
