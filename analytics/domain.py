"""analytics' rules besides the rates: periods. Pure functions."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from shared.clock import CHINA
from shared.errors import InvalidInput

MAX_PERIOD_DAYS = 366 * 5


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in China time: a period is whole local days, end inclusive."""
    if end < start:
        raise InvalidInput("to: the period ends before it starts.", field="to")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise InvalidInput(f"to: a period may span at most {MAX_PERIOD_DAYS} days.", field="to")
    return (
        datetime.combine(start, time(0), tzinfo=CHINA),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=CHINA),
    )
