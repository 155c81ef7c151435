"""The working-day calendar (工作日历) analytics counts handling times with. sla owns it and
publishes the whole calendar as `calendar.changed`; analytics keeps the latest one it learned
(one row, replaced) and counts with `shared.calendar`, the same rule sla's deadlines use.
Before any such event the default `WorkingCalendar()` (the `chinesecalendar` package's
schedule) applies.

A ticket's handling time is counted with the calendar in force when its events were folded, so
an override changes the handling time of tickets folded after it. A rebuild replays calendar
events in their arrival order among the ticket events, so it counts exactly the same.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from analytics.facts import DEFAULT_CALENDAR
from analytics.models import Calendar, stamps
from shared.calendar import WorkingCalendar
from shared.events import Envelope
from shared.events.sla import CalendarChanged
from shared.stamped import Stamped

ROW = "calendar"
DEFAULT = DEFAULT_CALENDAR


def calendar_of(change: CalendarChanged) -> WorkingCalendar:
    return WorkingCalendar(
        overrides=dict(change.overrides),
        schedules={year: dict(days) for year, days in change.schedules.items()},
        hours=tuple(change.working_hours),
    )


async def learn(session: AsyncSession, event: Envelope) -> None:
    """Keep the calendar `event` (a `calendar.changed`) carries, replacing the one before."""
    body = event.model_dump_json()
    row = await session.get(Calendar, ROW)
    if row is None:
        session.add(Calendar(name=ROW, body=body))
    elif row.body != body:
        row.body = body


def parse(body: str) -> WorkingCalendar:
    change = Envelope.model_validate_json(body).data()
    assert isinstance(change, CalendarChanged)
    return calendar_of(change)


async def _load(session: AsyncSession) -> WorkingCalendar:
    row = await session.get(Calendar, ROW)
    return parse(row.body) if row is not None else DEFAULT


_calendar = Stamped(stamps, "calendar", _load)
_calendar.watch(Calendar)
current = _calendar.get
changed = _calendar.changed
