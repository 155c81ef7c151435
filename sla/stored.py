"""The calendar (工作日历) and the policies (时限标准) as sla has stored them, read the way every
use case needs them: as the pure values of shared/calendar.py and sla/policies.py."""

from __future__ import annotations

import json
from datetime import date, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared import calendar as cal
from shared.clock import aware
from shared.stamped import Stamped
from sla.models import CalendarDay, CalendarSetting, CalendarYear, PolicyVersion, stamps
from sla.policies import Limit, Policy, Reminder


async def _stored_calendar(session: AsyncSession) -> cal.WorkingCalendar:
    """The working calendar as stored: loaded years, overrides and working hours."""
    years = (await session.scalars(select(CalendarYear.year))).all()
    schedules: dict[int, dict[date, bool]] = {y: {} for y in years}
    overrides: dict[date, bool] = {}
    for d in (await session.scalars(select(CalendarDay))).all():
        if d.source == "override":
            overrides[d.day] = d.working
        elif d.day.year in schedules:
            schedules[d.day.year][d.day] = d.working
    hours = cal.DEFAULT_WORKING_HOURS
    setting = await session.get(CalendarSetting, "working_hours")
    if setting is not None:
        hours = tuple(
            (time.fromisoformat(a), time.fromisoformat(b)) for a, b in json.loads(setting.value)
        )
    return cal.WorkingCalendar(overrides=overrides, schedules=schedules, hours=hours)


# Every event sla handles reads the calendar, which changes rarely (sla/calendar_admin.py);
# any flush that writes it marks it changed, so no editing function can forget to.
_calendar = Stamped(stamps, "calendar", _stored_calendar)
_calendar.watch(CalendarDay, CalendarYear, CalendarSetting)
load_calendar = _calendar.get


def policy_of(row: PolicyVersion) -> Policy:
    """A stored policy version as the pure value the rules choose among."""
    return Policy(
        code=row.code,
        version=row.version,
        name=row.name,
        sign=Limit(row.sign_amount, row.sign_unit),  # type: ignore[arg-type]
        response=Limit(row.response_amount, row.response_unit),  # type: ignore[arg-type]
        completion=Limit(row.completion_amount, row.completion_unit),  # type: ignore[arg-type]
        urgency=row.urgency,
        kind=row.kind,
        category=row.category,
        unit_class=row.unit_class,
        reminders=tuple(Reminder(**r) for r in json.loads(row.reminders)),
        effective_from=aware(row.effective_from),
        retired=row.retired,
    )


async def _stored_policies(session: AsyncSession) -> tuple[Policy, ...]:
    """Every stored version of every policy (a clock picks those in force when it started)."""
    return tuple(policy_of(r) for r in (await session.scalars(select(PolicyVersion))).all())


# Every dispatch and extension reads the policies (a consumer's batch once), which change only
# through sla/policy_admin.py: cached like the calendar, and marked changed by any flush that
# writes a version.
_policies = Stamped(stamps, "policies", _stored_policies)
_policies.watch(PolicyVersion)
load_policies = _policies.get
