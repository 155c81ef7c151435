"""Events produced by sla."""

from __future__ import annotations

from datetime import date, time
from typing import Literal

from pydantic import AwareDatetime

from shared.events.envelope import Payload, event

ClockStage = Literal["sign", "response", "completion"]
# assignment: the unit's clock; ticket: the handling round's overall (citizen-facing) clock.
ClockScope = Literal["assignment", "ticket"]
# 平台督办 → 电话督办 → 现场督办 → 联合督办
SupervisionLevel = Literal["platform", "phone", "on_site", "joint"]
SupervisionReason = Literal["overdue", "redispatched", "cluster", "unit_complaints"]


@event("sla.clock_started", version=1)
class ClockStarted(Payload):
    """Deadlines armed for an assignment at dispatch; sent again with `reason` recomputed or
    extended when a calendar or policy change or an approved extension moves them."""

    clock_id: str
    assignment_id: str
    unit_id: str
    policy: str
    sign_by: AwareDatetime
    respond_by: AwareDatetime
    complete_by: AwareDatetime
    round: int = 1
    reason: Literal["dispatched", "recomputed", "extended"] = "dispatched"


@event("sla.breached", version=1)
class SlaBreached(Payload):
    """A deadline passed with the stage still open (超期). For a ticket-scope clock,
    `assignment_id` and `unit_id` name the lead at the time."""

    clock_id: str
    assignment_id: str
    unit_id: str
    stage: ClockStage
    due_at: AwareDatetime
    scope: ClockScope = "assignment"
    round: int = 1


@event("sla.reminder", version=1)
class SlaReminder(Payload):
    """A deadline is near (提前提醒): `threshold` is the share of the budget used ("80%") or
    the hours left ("2h")."""

    clock_id: str
    assignment_id: str
    unit_id: str
    stage: ClockStage
    threshold: str
    due_at: AwareDatetime
    round: int = 1


@event("sla.extension_decided", version=1)
class ExtensionDecided(Payload):
    """The centre approved or refused a unit's extension request (延期审批). `complete_by` is
    the assignment's completion deadline after the decision; `ticket_complete_by` the ticket's
    citizen-facing expected completion time (None when the unit is not the lead)."""

    request_id: str
    assignment_id: str
    unit_id: str
    approved: bool
    days: int  # working days granted; 0 when refused
    complete_by: AwareDatetime
    ticket_complete_by: AwareDatetime | None


@event("ticket.supervised", version=1)
class TicketSupervised(Payload):
    """A supervision case (督办) opened or rose a level (`previous_level` None on opening)."""

    case_id: str
    reason: SupervisionReason
    level: SupervisionLevel
    previous_level: SupervisionLevel | None
    unit_id: str | None
    related_ticket_ids: list[str]


# Calendar events are not about one ticket: they travel under this one key (the envelope's
# `ticket_id`, the partition key), in the order sla made them.
CALENDAR_KEY = "calendar"


@event("calendar.changed", version=1)
class CalendarChanged(Payload):
    """sla's working-day calendar (工作日历) changed: a year's official schedule loaded, a day
    overridden or its override removed, the working hours set. Carries the whole calendar as
    sla now holds it (shared.calendar.WorkingCalendar's data), so a consumer replaces its copy."""

    overrides: dict[date, bool]  # single days: working or not
    schedules: dict[int, dict[date, bool]]  # loaded official schedules by year: their exceptions
    working_hours: list[tuple[time, time]]
