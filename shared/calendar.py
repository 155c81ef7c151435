"""The Chinese working-day calendar (工作日历), one rule for every service: sla owns its data
(loaded years, overrides, working hours) and publishes it as `calendar.changed`; analytics counts
handling times with the copy it learns from those events.

Public holidays, weekend make-up working days (调休) and the working hours of a working day.
Pure: no database, no clock reads.

Which days are working days, first rule that answers wins:
1. a single-day override (e.g. a day closed by a local decision);
2. a year's official schedule loaded through the API (the State Council's notice for a year the
   package does not cover yet): its holidays and make-up days, Monday–Friday otherwise;
3. the `chinesecalendar` package's published schedule (2004–2026 in 1.11);
4. Monday to Friday.

Three ways to count time, one per limit unit:
- `hours`: every hour counts (calendar hours, for emergencies at night);
- `working_hours`: only the working periods of working days (09:00–12:00 and 13:30–17:30 by
  default);
- `working_days`: whole working days; a deadline of N working days ends at 24:00 of the N-th
  working day after the start's own day (a ticket dispatched on a working day is not charged
  for that day).

Every instant is computed in Asia/Shanghai (no daylight saving) and handed back aware.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal

import chinese_calendar

from shared.clock import CHINA

LimitUnit = Literal["hours", "working_hours", "working_days"]
LIMIT_UNITS: tuple[LimitUnit, ...] = ("hours", "working_hours", "working_days")

# The years a calendar may be loaded or overridden for.
FIRST_YEAR, LAST_YEAR = 2004, 2099
# No real calendar has a month without working days; a search past this is a broken calendar.
_MAX_SEARCH_DAYS = 3 * 366

Period = tuple[time, time]
DEFAULT_WORKING_HOURS: tuple[Period, ...] = (
    (time(9, 0), time(12, 0)),
    (time(13, 30), time(17, 30)),
)
DAY = timedelta(days=1)


class CalendarError(ValueError):
    """The calendar cannot answer (e.g. no working day within three years)."""


def package_years() -> frozenset[int]:
    """The years the installed `chinesecalendar` package publishes."""
    return frozenset(d.year for d in chinese_calendar.constants.holidays)


@lru_cache(maxsize=4096)
def _package_working_day(day: date) -> bool:
    """The installed package's answer, kept: it validates and looks the day up on every call,
    and deadlines ask about the same few weeks of days for every ticket."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the package does not cover
        return day.weekday() < 5


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days are working days and which hours of them are working hours."""

    overrides: Mapping[date, bool] = field(default_factory=dict)
    schedules: Mapping[int, Mapping[date, bool]] = field(default_factory=dict)
    hours: tuple[Period, ...] = DEFAULT_WORKING_HOURS

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        schedule = self.schedules.get(day.year)
        if schedule is not None:
            return schedule.get(day, day.weekday() < 5)
        return _package_working_day(day)

    def covers(self, year: int) -> bool:
        """Whether the year's official holidays are known (loaded or in the package)."""
        return year in self.schedules or year in package_years()


def validate_working_hours(periods: Sequence[Period]) -> tuple[Period, ...]:
    """Periods must be non-empty, each start before its end, in order and not overlapping."""
    if not periods:
        raise ValueError("at least one working period is needed")
    previous_end: time | None = None
    for start, end in periods:
        if start >= end:
            raise ValueError(f"working period {start}–{end} ends before it starts")
        if previous_end is not None and start < previous_end:
            raise ValueError("working periods must be in order and must not overlap")
        previous_end = end
    return tuple(periods)


def validate_schedule(
    year: int, holidays: Sequence[date], make_up_days: Sequence[date]
) -> dict[date, bool]:
    """A year's official schedule as {day: working}; every day must lie in `year`."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"year {year} is outside {FIRST_YEAR}–{LAST_YEAR}")
    outside = [d for d in [*holidays, *make_up_days] if d.year != year]
    if outside:
        raise ValueError(f"{outside[0].isoformat()} is not in {year}")
    both = set(holidays) & set(make_up_days)
    if both:
        raise ValueError(f"{min(both).isoformat()} is both a holiday and a make-up working day")
    return {**{d: False for d in holidays}, **{d: True for d in make_up_days}}


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("deadlines are computed from aware instants only")
    return moment.astimezone(CHINA)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=CHINA)


def _spans(
    day: date, unit: LimitUnit, calendar: WorkingCalendar
) -> list[tuple[datetime, datetime]]:
    """The stretches of a China-local day that count for `unit`."""
    if unit == "hours":
        return [(_midnight(day), _midnight(day + DAY))]
    if not calendar.is_working_day(day):
        return []
    if unit == "working_days":
        return [(_midnight(day), _midnight(day + DAY))]
    return [
        (datetime.combine(day, a, tzinfo=CHINA), datetime.combine(day, b, tzinfo=CHINA))
        for a, b in calendar.hours
    ]


def _days_from(day: date) -> Iterator[date]:
    for i in range(_MAX_SEARCH_DAYS):
        yield day + i * DAY
    raise CalendarError(f"no counted time within {_MAX_SEARCH_DAYS} days after {day}")


def advance(
    start: datetime, amount: timedelta, unit: LimitUnit, calendar: WorkingCalendar
) -> datetime:
    """The instant at which `amount` of counted time has passed since `start`."""
    if amount < timedelta(0):
        raise ValueError("cannot advance by a negative amount")
    local = _local(start)
    if unit == "hours":
        return local + amount
    left = amount
    for day in _days_from(local.date()):
        for a, b in _spans(day, unit, calendar):
            a = max(a, local)
            if b <= a:
                continue
            if b - a >= left:
                return a + left
            left -= b - a
    raise AssertionError("unreachable")  # pragma: no cover


def counted_between(
    start: datetime, end: datetime, unit: LimitUnit, calendar: WorkingCalendar
) -> timedelta:
    """How much counted time lies between `start` and `end` (zero if end is not after start)."""
    a0, b0 = _local(start), _local(end)
    if b0 <= a0:
        return timedelta(0)
    if unit == "hours":
        return b0 - a0
    total = timedelta(0)
    day = a0.date()
    while day <= b0.date():
        for a, b in _spans(day, unit, calendar):
            lo, hi = max(a, a0), min(b, b0)
            if hi > lo:
                total += hi - lo
        day += DAY
    return total


def add_working_days(start: datetime, days: int, calendar: WorkingCalendar) -> datetime:
    """The end (24:00 China time) of the `days`-th working day after the start's own day.

    "5个工作日内": a ticket dispatched on Friday afternoon before a holiday week is due at the
    end of the fifth working day after it, skipping weekends and holidays and counting make-up
    Saturdays.
    """
    if days < 1:
        raise ValueError("a working-day limit is at least one day")
    first = _local(start).date() + DAY
    counted = 0
    for day in _days_from(first):
        if calendar.is_working_day(day):
            counted += 1
            if counted == days:
                return _midnight(day + DAY)
    raise AssertionError("unreachable")  # pragma: no cover


def add_working_hours(start: datetime, hours: float, calendar: WorkingCalendar) -> datetime:
    """The instant `hours` working hours after `start`: nights, weekends and holidays do not
    count; make-up Saturdays do."""
    if hours <= 0:
        raise ValueError("a working-hour limit is positive")
    return advance(start, timedelta(hours=hours), "working_hours", calendar)


def extend_by_working_days(due: datetime, days: int, calendar: WorkingCalendar) -> datetime:
    """An approved extension (延期): `days` working days after the day the deadline falls in
    (a deadline at 24:00 falls in the day that ends then)."""
    return add_working_days(due - timedelta(microseconds=1), days, calendar)
