"""Deadline arithmetic on the Chinese working-day calendar, property-tested."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.calendar import (
    LIMIT_UNITS,
    WorkingCalendar,
    add_working_days,
    add_working_hours,
    advance,
    counted_between,
    extend_by_working_days,
    validate_schedule,
    validate_working_hours,
)

CHINA = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar()
MAKE_UP_2026 = [d for d in chinese_calendar.get_workdays(date(2026, 1, 1), date(2026, 12, 31))]
MAKE_UP_2026 = [d for d in MAKE_UP_2026 if d.weekday() >= 5]

starts = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 11, 30)).map(
    lambda d: d.replace(tzinfo=CHINA)
)


def _is_official_holiday(day: date) -> bool:
    return bool(chinese_calendar.is_holiday(day))


@settings(max_examples=300)
@given(start=starts, n=st.integers(min_value=1, max_value=20))
def test_adding_working_days_never_lands_on_a_holiday(start: datetime, n: int) -> None:
    due = add_working_days(start, n, CAL)
    last = (due - timedelta(microseconds=1)).astimezone(CHINA).date()
    assert due.astimezone(CHINA).time() == time(0, 0)
    assert not _is_official_holiday(last)
    # exactly n working days after the start's own day, weekends counted when made up (调休)
    counted = [start.date() + timedelta(days=i) for i in range(1, (last - start.date()).days + 1)]
    assert sum(CAL.is_working_day(d) for d in counted) == n


@given(start=starts, n=st.integers(min_value=1, max_value=20), k=st.integers(1, 5))
def test_working_day_deadlines_are_monotonic_in_n(start: datetime, n: int, k: int) -> None:
    assert add_working_days(start, n, CAL) < add_working_days(start, n + k, CAL)


@given(a=starts, b=starts, n=st.integers(min_value=1, max_value=10))
def test_working_day_deadlines_are_monotonic_in_the_start(a: datetime, b: datetime, n: int) -> None:
    early, late = sorted((a, b))
    assert add_working_days(early, n, CAL) <= add_working_days(late, n, CAL)


@pytest.mark.parametrize("saturday", MAKE_UP_2026, ids=str)
def test_make_up_saturdays_count(saturday: date) -> None:
    # Dispatched on the day before a make-up weekend day: one working day is that very day.
    start = datetime.combine(saturday - timedelta(days=1), time(15, 0), tzinfo=CHINA)
    due = add_working_days(start, 1, CAL)
    assert due == datetime.combine(saturday + timedelta(days=1), time(0, 0), tzinfo=CHINA)
    closed = WorkingCalendar({saturday: False})
    assert add_working_days(start, 1, closed) > due


def test_national_day_week_is_skipped_and_its_make_up_saturday_counted() -> None:
    start = datetime(2026, 9, 30, 10, 0, tzinfo=CHINA)  # Wednesday before 国庆
    # Oct 1–7 off; Thu 8th (1), Fri 9th (2), Sat 10th 调休 (3)
    assert add_working_days(start, 3, CAL) == datetime(2026, 10, 11, 0, 0, tzinfo=CHINA)


def test_working_hours_cross_nights_weekends_and_holidays() -> None:
    friday = datetime(2026, 11, 27, 16, 30, tzinfo=CHINA)
    # 16:30–17:30 Friday, then Monday 09:00–10:00
    assert add_working_hours(friday, 2, CAL) == datetime(2026, 11, 30, 10, 0, tzinfo=CHINA)
    before_holiday = datetime(2026, 9, 30, 17, 0, tzinfo=CHINA)
    # half an hour on the 30th, the National Day week off, then Thursday 8th from 09:00
    assert add_working_hours(before_holiday, 1, CAL) == datetime(2026, 10, 8, 9, 30, tzinfo=CHINA)
    # the lunch break does not count
    assert add_working_hours(datetime(2026, 11, 23, 11, 0, tzinfo=CHINA), 2, CAL) == datetime(
        2026, 11, 23, 14, 30, tzinfo=CHINA
    )
    # a make-up Saturday has working hours
    assert add_working_hours(datetime(2026, 10, 9, 17, 0, tzinfo=CHINA), 1, CAL) == datetime(
        2026, 10, 10, 9, 30, tzinfo=CHINA
    )


@settings(max_examples=200)
@given(start=starts, minutes=st.integers(min_value=1, max_value=60 * 40))
def test_working_hours_land_inside_working_time_and_count_exactly(
    start: datetime, minutes: int
) -> None:
    hours = minutes / 60
    due = add_working_hours(start, hours, CAL)
    assert counted_between(start, due, "working_hours", CAL) == timedelta(minutes=minutes)
    local = due.astimezone(CHINA)
    assert CAL.is_working_day(local.date())
    assert any(a < local.time() <= b for a, b in CAL.hours)
    assert add_working_hours(start, hours + 0.5, CAL) > due


@given(start=starts, minutes=st.integers(0, 60 * 24 * 20), unit=st.sampled_from(LIMIT_UNITS))
def test_advance_and_counted_between_agree(start: datetime, minutes: int, unit: str) -> None:
    amount = timedelta(minutes=minutes)
    end = advance(start, amount, unit, CAL)  # type: ignore[arg-type]
    assert counted_between(start, end, unit, CAL) == amount  # type: ignore[arg-type]


def test_calendar_hours_ignore_the_calendar() -> None:
    start = datetime(2026, 9, 30, 22, 0, tzinfo=CHINA)
    assert advance(start, timedelta(hours=24), "hours", CAL) == start + timedelta(hours=24)


def test_an_extension_counts_from_the_deadline_day() -> None:
    due = datetime(2026, 12, 1, 0, 0, tzinfo=CHINA)  # end of Monday 30 November
    assert extend_by_working_days(due, 3, CAL) == datetime(2026, 12, 4, 0, 0, tzinfo=CHINA)
    start = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA)
    assert extend_by_working_days(add_working_days(start, 5, CAL), 3, CAL) == add_working_days(
        start, 8, CAL
    )


def test_a_loaded_year_replaces_the_weekday_rule_and_overrides_win() -> None:
    spring = [date(2027, 2, d) for d in (8, 9, 10, 11, 12)]
    schedule = validate_schedule(2027, spring, [date(2027, 2, 20)])
    calendar = WorkingCalendar({date(2027, 2, 8): True}, schedules={2027: schedule})
    assert not calendar.is_working_day(date(2027, 2, 9))
    assert calendar.is_working_day(date(2027, 2, 20))  # a Saturday made up
    assert calendar.is_working_day(date(2027, 2, 8))  # override wins over the schedule
    assert calendar.is_working_day(date(2027, 3, 1)) and not calendar.is_working_day(
        date(2027, 3, 6)
    )
    assert calendar.covers(2027) and not WorkingCalendar().covers(2027)


@pytest.mark.parametrize(
    ("holidays", "make_up", "message"),
    [
        ([date(2028, 1, 1)], [], "not in 2027"),
        ([date(2027, 1, 1)], [date(2026, 12, 31)], "not in 2027"),
        ([date(2027, 1, 2)], [date(2027, 1, 2)], "both"),
    ],
)
def test_schedules_refuse_days_outside_the_year(
    holidays: list[date], make_up: list[date], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        validate_schedule(2027, holidays, make_up)


def test_working_hours_must_be_ordered_periods() -> None:
    with pytest.raises(ValueError):
        validate_working_hours([(time(12, 0), time(9, 0))])
    with pytest.raises(ValueError):
        validate_working_hours([(time(9, 0), time(12, 0)), (time(11, 0), time(13, 0))])
    with pytest.raises(ValueError):
        validate_working_hours([])
