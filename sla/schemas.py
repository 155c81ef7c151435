"""sla's HTTP models."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, WithJsonSchema

from shared.calendar import LimitUnit
from shared.events.intake import TicketKind, Urgency
from shared.events.routing import UnitClass
from shared.text import LINE, TEXT


class _In(BaseModel):
    """What a client sends: a field sla does not know is refused (422 naming it), not
    silently dropped, as in the other services."""

    model_config = ConfigDict(extra="forbid")


class TimerOut(BaseModel):
    stage: str
    kind: str  # deadline or reminder
    threshold: str  # a reminder's "50%" or "2h"; "" for a deadline
    due_at: datetime
    state: str  # armed, stopped (met or late), fired (breached / reminded), skipped
    stopped_at: datetime | None
    fired_at: datetime | None
    met: bool | None  # deadlines: None while the stage is open


class HistoryOut(BaseModel):
    clock_id: str
    at: datetime
    what: str
    detail: str


class ClockOut(BaseModel):
    id: str
    ticket_id: str
    assignment_id: str
    unit_id: str
    policy: str
    started_at: datetime
    scope: str  # assignment or ticket
    round: int
    role: str
    status: str  # open, done, returned, redispatched, closed
    extension_days: int
    time_zone: str
    timers: list[TimerOut]


class DeadlineOut(BaseModel):
    ticket_id: str
    clock_id: str
    scope: str
    assignment_id: str
    unit_id: str
    area_code: str | None
    stage: str
    due_at: datetime
    fired_at: datetime | None


# The overdue list keeps its first name.
OverdueOut = DeadlineOut


class ExtensionOut(BaseModel):
    id: str
    ticket_id: str
    assignment_id: str
    unit_id: str
    requested_days: int
    reason: str
    requested_at: datetime
    status: str  # pending, approved, refused, lapsed (the ticket closed first)
    days: int
    note: str | None
    decided_at: datetime | None
    complete_by_before: datetime | None
    complete_by_after: datetime | None


class DecisionIn(_In):
    approve: bool
    days: int | None = Field(
        default=None, description="working days granted; default: as requested"
    )
    note: Annotated[str, Field(max_length=255), TEXT] | None = None


class CaseOut(BaseModel):
    id: str
    ticket_id: str
    reason: str
    level: str
    status: str
    unit_id: str | None
    area_code: str | None
    matter: str | None
    related_ticket_ids: list[str]
    opened_at: datetime
    last_activity_at: datetime
    escalated_at: datetime | None
    next_escalation_at: datetime | None
    resolved_at: datetime | None
    resolution: str | None


class ResolveIn(_In):
    note: Annotated[str, Field(min_length=1, max_length=255), TEXT]


class TicketSlaOut(BaseModel):
    ticket_id: str
    round: int
    status: str
    dispatch_count: int
    expected_completion: datetime | None  # the current round's ticket deadline (citizen-facing)
    ticket_clocks: list[ClockOut]
    clocks: list[ClockOut]
    history: list[HistoryOut]
    extensions: list[ExtensionOut]
    supervision: list[CaseOut]


class LimitIn(_In):
    amount: float
    unit: LimitUnit = Field(description="hours, working_hours or working_days")


class ReminderIn(_In):
    fraction: float | None = Field(default=None, description="share of the budget, 0 < f < 1")
    hours_before: float | None = Field(default=None, description="calendar hours before")


class PolicyIn(_In):
    name: Annotated[str, Field(max_length=64), LINE] = ""
    urgency: Urgency | None = None
    kind: TicketKind | None = None
    category: Annotated[str, Field(max_length=128), LINE] | None = None
    unit_class: UnitClass | None = None
    sign: LimitIn
    response: LimitIn
    completion: LimitIn
    reminders: list[ReminderIn] = Field(
        default_factory=lambda: [ReminderIn(fraction=0.5), ReminderIn(fraction=0.8)]
    )
    effective_from: AwareDatetime | None = Field(default=None, description="default: now")


class LimitOut(BaseModel):
    amount: float
    unit: str


class PolicyOut(BaseModel):
    code: str
    version: int
    name: str
    urgency: str | None
    kind: str | None
    category: str | None
    unit_class: str | None
    sign: LimitOut
    response: LimitOut
    completion: LimitOut
    reminders: list[ReminderIn]
    effective_from: datetime
    retired: bool
    builtin: bool
    in_force: bool
    recomputed_clocks: int | None = None


# A local time of day (Asia/Shanghai) as served: "09:00:00". Not JSON Schema's `format: time`,
# which is RFC 3339's full-time and requires an offset (found by the fuzzing in tests/fuzz).
LocalTime = Annotated[
    time,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
            "description": "local time of day (Asia/Shanghai), HH:MM[:SS]",
            "examples": ["09:00"],
        }
    ),
]


class PeriodIn(_In):
    start: LocalTime
    end: LocalTime


class WorkingHoursIn(_In):
    periods: list[PeriodIn]


class YearIn(_In):
    holidays: list[date] = Field(description="official holidays (放假) of the year")
    make_up_days: list[date] = Field(default_factory=list, description="调休 working weekend days")
    note: Annotated[str, Field(max_length=255), TEXT] = ""


class DayIn(_In):
    working: bool
    note: Annotated[str, Field(max_length=128), TEXT] = ""


class OverrideOut(BaseModel):
    day: date
    working: bool
    note: str


class YearOut(BaseModel):
    year: int
    source: str  # loaded (through the API), package (chinesecalendar), weekdays (no schedule)
    holidays: list[date]
    make_up_days: list[date]
    overrides: list[OverrideOut]
    working_hours: list[PeriodIn]
    recomputed_clocks: int | None = None
