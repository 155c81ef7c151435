"""sla's rules: deadlines and reminders of a clock, which events stop which stage, extension
rules. Pure functions over values: no database, no HTTP, no clock reads.

Clock rules (时限规则):
- A clock per assignment (the unit's clock: sign-off, response, completion) starts at dispatch,
  and a clock per ticket and handling round (the ticket's overall clock: completion only, the
  citizen-facing expected time) starts at the round's first lead dispatch.
- Return (退单) and re-dispatch (改派): the returning unit's clock stops; the new unit gets a fresh
  clock from its own dispatch; the ticket's overall clock keeps running.
- An approved extension (延期) moves the assignment's completion deadline and, for the lead,
  the ticket's, by working days counted from the current deadline.
- A re-open (重办) starts a new round: a new ticket clock and fresh assignment clocks.
- `ticket.closed` stops every clock of the ticket.

Statuses (状态) of what sla stores, one `StrEnum` per entity: a ticket as sla knows it
(`TicketStatus`), a deadline clock (`ClockStatus`), a clock's timer (`TimerState`), an extension
request (`ExtensionStatus`) and a supervision case (`CaseStatus`). Their values are what the
database and the API carry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shared.calendar import WorkingCalendar, add_working_days, advance, counted_between
from shared.calendar import extend_by_working_days as extend_by_working_days
from shared.errors import Conflict, InvalidInput
from sla.policies import Limit, Policy, Reminder


class TicketStatus(StrEnum):
    """A ticket as sla knows it (工单状态). The values are stored and shown by the API."""

    OPEN = "open"  # 办理中: received or dispatched, its clocks may run (a re-open opens it again)
    ANSWERED = "answered"  # 已当场解答 (在线解答): answered at intake, never dispatched
    CLOSED = "closed"  # 已结案 (`ticket.closed`)


class ClockStatus(StrEnum):
    """Where a deadline clock (时限) stands: open, or how it stopped. The values are stored and
    shown by the API."""

    OPEN = "open"  # 计时中: its stages' deadlines are running
    DONE = "done"  # 已办结: the unit replied (办结反馈); a ticket clock: the round's lead replied
    RETURNED = "returned"  # 已退单: the unit's return was approved; the ticket clock runs on
    WITHDRAWN = "withdrawn"  # 已撤回: routing ended the assignment (改派, 下派, 联合认定, 协办超时)
    REDISPATCHED = "redispatched"  # 已改派: a new lead took over the round (the old lead's clock)
    CLOSED = "closed"  # 已结案: the ticket closed, or a re-open (重办) ended the round


class TimerState(StrEnum):
    """Where a timer (a stage's deadline or a reminder before it) stands. The values are stored
    and shown by the API."""

    ARMED = "armed"  # 计时中: waiting for its due time
    FIRED = "fired"  # a deadline: 已超期 (`sla.breached`); a reminder: 已提醒 (`sla.reminder`)
    STOPPED = "stopped"  # 已停止: the stage ended (or its clock stopped) before it was due
    SKIPPED = "skipped"  # 已跳过: a reminder whose deadline had already passed (the breach says it)


class ExtensionStatus(StrEnum):
    """Where an extension request (延期申请) stands. The values are stored and shown by the API."""

    PENDING = "pending"  # 待审批: waiting for the centre (延期审批)
    APPROVED = "approved"  # 已批准: the completion deadline moved
    REFUSED = "refused"  # 未获批准
    LAPSED = "lapsed"  # 已失效: the ticket closed before the centre decided


class CaseStatus(StrEnum):
    """Where a supervision case (督办) stands. The values are stored and shown by the API."""

    OPEN = "open"  # 督办中: its level rises while nothing happens
    RESOLVED = "resolved"  # 督办已办结: the ticket was replied to or closed, or resolved by hand


ASSIGNMENT_STAGES = ("sign", "response", "completion")
TICKET_STAGES = ("completion",)


def due_at(start: datetime, limit: Limit, calendar: WorkingCalendar) -> datetime:
    """When a limit that started at `start` runs out."""
    if limit.unit == "working_days":
        return add_working_days(start, int(limit.amount), calendar)
    return advance(start, timedelta(hours=limit.amount), limit.unit, calendar)


def deadline(
    start: datetime,
    limit: Limit,
    extension_days: int,
    calendar: WorkingCalendar,
) -> datetime:
    """The deadline of a stage: the policy's limit from the start, then any approved extension."""
    due = due_at(start, limit, calendar)
    if extension_days:
        due = extend_by_working_days(due, extension_days, calendar)
    return due


def remind_at(
    start: datetime,
    due: datetime,
    limit: Limit,
    reminder: Reminder,
    calendar: WorkingCalendar,
) -> datetime | None:
    """When to remind, or None if that moment is not strictly between start and deadline.

    A fraction counts the budget in the limit's own unit (50% of 5 working days is half of the
    working-day time between dispatch and deadline, so it never lands on a holiday);
    `hours_before` counts calendar hours back from the deadline.
    """
    if reminder.fraction is not None:
        budget = counted_between(start, due, limit.unit, calendar)
        at = advance(start, budget * reminder.fraction, limit.unit, calendar)
    else:
        assert reminder.hours_before is not None
        at = due - timedelta(hours=reminder.hours_before)
    return at if start < at < due else None


@dataclass(frozen=True)
class PlannedTimer:
    stage: str
    kind: str  # "deadline" or "reminder"
    threshold: str  # "" for a deadline, the reminder's label otherwise
    due_at: datetime
    deadline_at: datetime


def plan(
    start: datetime,
    policy: Policy,
    stages: tuple[str, ...],
    extension_days: int,
    calendar: WorkingCalendar,
    *,
    reminders: bool = True,
) -> list[PlannedTimer]:
    """Every timer of a clock: a deadline per stage and its reminders (extensions apply to
    completion only)."""
    timers: list[PlannedTimer] = []
    for stage in stages:
        limit = policy.limit(stage)
        extra = extension_days if stage == "completion" else 0
        due = deadline(start, limit, extra, calendar)
        timers.append(PlannedTimer(stage, "deadline", "", due, due))
        if reminders:
            for r in policy.reminders:
                at = remind_at(start, due, limit, r, calendar)
                if at is not None:
                    timers.append(PlannedTimer(stage, "reminder", r.label, at, due))
    return timers


# Which stages an assignment event stops: contact implies sign-off, a reply implies both.
STAGES_STOPPED_BY = {
    "assignment.signed": ("sign",),
    "assignment.contacted": ("sign", "response"),
    "assignment.replied": ("sign", "response", "completion"),
}


@dataclass(frozen=True)
class ExtensionRules:
    """How many extensions an assignment may get and how long (working days)."""

    max_per_assignment: int = 2
    max_days_each: int = 10
    max_days_total: int = 15


def check_extension(
    *,
    rules: ExtensionRules,
    approve: bool,
    days: int,
    requested_days: int,
    approved_before: int,
    days_before: int,
    request_status: str,
    clock_status: str,
    completion_state: str | None,
) -> None:
    """Whether the centre may take this decision now. Raises Conflict or InvalidInput."""
    if request_status != ExtensionStatus.PENDING:
        raise Conflict(
            f"the request was already {request_status}", allowed_actions=[], field="request"
        )
    if clock_status != ClockStatus.OPEN:
        raise Conflict(
            f"the assignment's clock is {clock_status}: no extension for finished work",
            allowed_actions=[],
        )
    if not approve:
        return
    if completion_state != TimerState.ARMED:
        raise Conflict(
            "the completion deadline is no longer running (already met or breached)",
            allowed_actions=["refuse"],
        )
    if not 1 <= days <= requested_days:
        raise InvalidInput(
            f"days must be between 1 and the {requested_days} requested", field="days"
        )
    if approved_before >= rules.max_per_assignment:
        raise Conflict(
            f"the assignment already had {approved_before} extensions "
            f"(at most {rules.max_per_assignment})",
            allowed_actions=["refuse"],
        )
    if days > rules.max_days_each:
        raise InvalidInput(
            f"days must be at most {rules.max_days_each} per extension", field="days"
        )
    if days_before + days > rules.max_days_total:
        raise InvalidInput(
            f"days: {days_before} already granted, at most {rules.max_days_total} in all",
            field="days",
        )
