"""sla's rules: deadline policies and due times. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sla.calendar import WorkingCalendar, add_working_days

LimitUnit = Literal["hours", "working_days"]


@dataclass(frozen=True)
class Limit:
    amount: int
    unit: LimitUnit


@dataclass(frozen=True)
class Policy:
    """Limits for one kind of ticket: sign-off (签收), response (首次联系), completion (办结)."""

    name: str
    sign: Limit
    response: Limit
    completion: Limit


# 马上办 (emergency, hours) · 快速办 (ordinary, working days) · 研究办 (complex, longer).
DEFAULT_POLICIES: dict[str, Policy] = {
    "emergency": Policy("emergency", Limit(1, "hours"), Limit(2, "hours"), Limit(24, "hours")),
    "ordinary": Policy(
        "ordinary", Limit(1, "working_days"), Limit(1, "working_days"), Limit(5, "working_days")
    ),
    "complex": Policy(
        "complex", Limit(1, "working_days"), Limit(2, "working_days"), Limit(15, "working_days")
    ),
}


def policy_for(urgency: str) -> Policy:
    return DEFAULT_POLICIES.get(urgency, DEFAULT_POLICIES["ordinary"])


def due_at(start: datetime, limit: Limit, calendar: WorkingCalendar) -> datetime:
    if limit.unit == "hours":
        return start + timedelta(hours=limit.amount)
    return add_working_days(start, limit.amount, calendar)


# Which clock stage an assignment event stops.
STAGE_STOPPED_BY = {
    "assignment.signed": "sign",
    "assignment.contacted": "response",
    "assignment.replied": "completion",
}
