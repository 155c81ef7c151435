"""The Chinese working-day calendar: public holidays and weekend make-up working days (调休).

Years covered by the `chinesecalendar` package use the State Council's published schedule;
single days can be overridden (e.g. a newly announced year). Outside the covered years,
Monday to Friday are working days.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

import chinese_calendar

from shared.clock import CHINA


class WorkingCalendar:
    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        self.overrides = dict(overrides or {})

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:  # a year the package does not cover yet
            return day.weekday() < 5


def add_working_days(start: datetime, days: int, calendar: WorkingCalendar) -> datetime:
    """The end (24:00 China time) of the `days`-th working day after the start's own day.

    "5个工作日内": a ticket dispatched on Friday afternoon before a holiday week is due at the
    end of the fifth working day after it, skipping weekends and holidays and counting make-up
    Saturdays.
    """
    if days < 1:
        raise ValueError("a working-day limit is at least one day")
    day = start.astimezone(CHINA).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=CHINA)
