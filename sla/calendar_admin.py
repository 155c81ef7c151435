"""The calendar's use cases (工作日历): show a year, load a year's official schedule, override a
day or remove the override, set the working hours. Each change recomputes the open clocks and
publishes the whole calendar (`calendar.changed`), in the change's transaction. The rule itself
is shared/calendar.py's; what is stored is read through sla/stored.py."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared import calendar as cal
from shared.errors import InvalidInput, NotFound
from shared.events.sla import CALENDAR_KEY, CalendarChanged
from sla.models import CalendarDay, CalendarSetting, CalendarYear, outbox
from sla.recompute import recompute_open_clocks
from sla.stored import load_calendar


@dataclass(frozen=True)
class YearView:
    """A year of the calendar (工作日历) as the API shows it."""

    year: int
    source: str  # loaded, package, weekdays
    holidays: list[date]  # weekdays that are not working days
    make_up_days: list[date]  # weekend days that are working days (调休)
    overrides: list[tuple[date, bool, str]]
    working_hours: tuple[cal.Period, ...]


def _check_year(year: int) -> None:
    if not cal.FIRST_YEAR <= year <= cal.LAST_YEAR:
        raise InvalidInput(
            f"year must be between {cal.FIRST_YEAR} and {cal.LAST_YEAR}", field="year"
        )


async def calendar_year(session: AsyncSession, year: int) -> YearView:
    """A year's holidays, make-up days (调休), overrides and working hours, and where its
    schedule comes from."""
    _check_year(year)
    calendar = await load_calendar(session)
    plain = cal.WorkingCalendar(schedules=calendar.schedules)  # without single-day overrides
    day, holidays, make_up = date(year, 1, 1), [], []
    while day.year == year:
        working = plain.is_working_day(day)
        if not working and day.weekday() < 5:
            holidays.append(day)
        elif working and day.weekday() >= 5:
            make_up.append(day)
        day += cal.DAY
    overrides = (
        await session.scalars(
            select(CalendarDay)
            .where(
                CalendarDay.source == "override",
                CalendarDay.day >= date(year, 1, 1),
                CalendarDay.day <= date(year, 12, 31),
            )
            .order_by(CalendarDay.day)
        )
    ).all()
    source = (
        "loaded"
        if year in calendar.schedules
        else "package"
        if year in cal.package_years()
        else "weekdays"
    )
    return YearView(
        year,
        source,
        holidays,
        make_up,
        [(o.day, o.working, o.note) for o in overrides],
        calendar.hours,
    )


async def _changed(session: AsyncSession, now: datetime) -> int:
    """After a change: publish the new calendar and recompute the open clocks, both in the
    change's transaction. Returns the clocks whose deadlines moved."""
    await session.flush()  # so the calendar read below is the changed one
    await _publish_calendar(session, now)
    return await recompute_open_clocks(session, now)


async def announce_calendar(session: AsyncSession, now: datetime) -> None:
    """Announce the calendar as it stands, unchanged (for a consumer that joined later or an
    upgrade from before sla announced it); consumers replace their copy, so twice is once."""
    await _publish_calendar(session, now)


async def _publish_calendar(session: AsyncSession, now: datetime) -> None:
    """Add `calendar.changed` with the whole calendar as it now stands to the outbox, in the
    change's transaction: sla owns the calendar (工作日历) and analytics counts handling times
    with the copy it learns from this event."""
    calendar = await load_calendar(session)
    await outbox.emit(
        session,
        CalendarChanged(
            overrides=dict(calendar.overrides),
            schedules={year: dict(days) for year, days in calendar.schedules.items()},
            working_hours=list(calendar.hours),
        ),
        ticket_id=CALENDAR_KEY,
        occurred_at=now,
    )


async def load_year(
    session: AsyncSession,
    year: int,
    holidays: list[date],
    make_up_days: list[date],
    note: str,
    now: datetime,
) -> int:
    """Load a year's official schedule (replacing a previous load); recompute open clocks."""
    try:
        schedule = cal.validate_schedule(year, holidays, make_up_days)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="holidays") from None
    await session.execute(
        delete(CalendarDay).where(
            CalendarDay.source == "schedule",
            CalendarDay.day >= date(year, 1, 1),
            CalendarDay.day <= date(year, 12, 31),
        )
    )
    row = await session.get(CalendarYear, year)
    if row is None:
        session.add(CalendarYear(year=year, note=note, loaded_at=now))
    else:
        row.note, row.loaded_at = note, now
    for d, working in schedule.items():
        session.add(
            CalendarDay(day=d, source="schedule", working=working, note=note[:128], updated_at=now)
        )
    return await _changed(session, now)


async def override_day(
    session: AsyncSession, day: date, working: bool, note: str, now: datetime
) -> int:
    """Make one day a working day or not (a single-day override); recompute open clocks."""
    _check_year(day.year)
    row = await session.get(CalendarDay, (day, "override"))
    if row is None:
        session.add(
            CalendarDay(day=day, source="override", working=working, note=note, updated_at=now)
        )
    else:
        row.working, row.note, row.updated_at = working, note, now
    return await _changed(session, now)


async def remove_override(session: AsyncSession, day: date, now: datetime) -> int:
    """The day follows its schedule again; recompute open clocks."""
    row = await session.get(CalendarDay, (day, "override"))
    if row is None:
        raise NotFound(f"no override for {day.isoformat()}", field="day")
    await session.delete(row)
    return await _changed(session, now)


async def set_working_hours(session: AsyncSession, periods: list[cal.Period], now: datetime) -> int:
    """The working periods of a working day (for limits in working hours); recompute open
    clocks."""
    try:
        cal.validate_working_hours(periods)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="periods") from None
    value = json.dumps(
        [[a.isoformat(timespec="minutes"), b.isoformat(timespec="minutes")] for a, b in periods]
    )
    row = await session.get(CalendarSetting, "working_hours")
    if row is None:
        session.add(CalendarSetting(key="working_hours", value=value, updated_at=now))
    else:
        row.value, row.updated_at = value, now
    return await _changed(session, now)
