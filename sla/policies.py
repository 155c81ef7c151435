"""Deadline policies (时限标准): per kind × urgency, optionally category and unit class, a sign-off
(签收), response (首次联系) and completion (办结) limit with reminder thresholds (提前提醒).
Versioned: each version takes effect at `effective_from`; a clock uses the versions in force when
it started. Pure values and rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import get_args

from shared.calendar import LIMIT_UNITS, LimitUnit
from shared.errors import InvalidInput
from shared.events.routing import UnitClass

STAGES = ("sign", "response", "completion")
URGENCIES = ("emergency", "ordinary", "complex")
KINDS = ("consultation", "help", "complaint", "report", "suggestion", "praise")
# A unit's class (单位类别) is routing's to decide; sla only names the values it may match on.
UNIT_CLASSES: tuple[str, ...] = get_args(UnitClass)
# The longest limit we accept: a year of days, or its hours.
MAX_AMOUNT = {"hours": 24 * 366, "working_hours": 8 * 260, "working_days": 260}
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Limit:
    amount: float
    unit: LimitUnit


@dataclass(frozen=True)
class Reminder:
    """Remind the unit at a share of the budget (`fraction` 0.5 = half-way) or `hours_before`
    the deadline (calendar hours)."""

    fraction: float | None = None
    hours_before: float | None = None

    @property
    def label(self) -> str:
        if self.fraction is not None:
            return f"{round(self.fraction * 100)}%"
        return f"{self.hours_before:g}h"


DEFAULT_REMINDERS = (Reminder(fraction=0.5), Reminder(fraction=0.8))


@dataclass(frozen=True)
class Policy:
    """One version of a policy. `None` criteria match anything; `category` matches itself and
    every sub-category (城市管理 matches 城市管理/市容环境/占道经营)."""

    code: str
    version: int
    sign: Limit
    response: Limit
    completion: Limit
    urgency: str | None = None
    kind: str | None = None
    category: str | None = None
    unit_class: str | None = None
    reminders: tuple[Reminder, ...] = DEFAULT_REMINDERS
    effective_from: datetime = EPOCH
    retired: bool = False
    name: str = ""

    def limit(self, stage: str) -> Limit:
        return {"sign": self.sign, "response": self.response, "completion": self.completion}[stage]

    @property
    def label(self) -> str:
        return f"{self.code}@v{self.version}"


def _default(urgency: str, sign: Limit, response: Limit, completion: Limit) -> Policy:
    return Policy(
        code=f"default-{urgency}",
        version=0,
        sign=sign,
        response=response,
        completion=completion,
        urgency=urgency,
        name={"emergency": "马上办", "ordinary": "快速办", "complex": "研究办"}[urgency],
    )


# 马上办 (emergency, hours) · 快速办 (ordinary, working days) · 研究办 (complex, longer).
# The built-in fallbacks; policies stored through the API take precedence when they match.
DEFAULT_POLICIES: tuple[Policy, ...] = (
    _default("emergency", Limit(1, "hours"), Limit(2, "hours"), Limit(24, "hours")),
    _default(
        "ordinary", Limit(1, "working_days"), Limit(1, "working_days"), Limit(5, "working_days")
    ),
    _default(
        "complex", Limit(1, "working_days"), Limit(2, "working_days"), Limit(15, "working_days")
    ),
)


@dataclass(frozen=True)
class Subject:
    """What a policy is chosen for: a ticket (and, for an assignment, its unit's class as
    routing's `ticket.dispatched` gave it). A class of None (an event written before routing
    sent one, or a ticket clock) matches only policies that name no unit class."""

    kind: str
    urgency: str
    category: str = ""
    unit_class: str | None = None


def _category_matches(pattern: str | None, category: str) -> bool:
    return pattern is None or category == pattern or category.startswith(pattern + "/")


def matches(policy: Policy, subject: Subject) -> bool:
    return (
        (policy.urgency is None or policy.urgency == subject.urgency)
        and (policy.kind is None or policy.kind == subject.kind)
        and _category_matches(policy.category, subject.category)
        and (policy.unit_class is None or policy.unit_class == subject.unit_class)
    )


def specificity(policy: Policy) -> tuple[int, int, int, int]:
    """More specific wins: unit class, then the longest category, then kind, then urgency."""
    return (
        policy.unit_class is not None,
        len(policy.category or ""),
        policy.kind is not None,
        policy.urgency is not None,
    )


def in_force(versions: Iterable[Policy], at: datetime) -> list[Policy]:
    """Per code, the latest version effective at `at` (retired ones drop out)."""
    latest: dict[str, Policy] = {}
    for p in versions:
        if p.effective_from <= at and (p.code not in latest or p.version > latest[p.code].version):
            latest[p.code] = p
    return [p for p in latest.values() if not p.retired]


def policy_for(subject: Subject, versions: Iterable[Policy], at: datetime) -> Policy:
    """The policy a clock started at `at` runs under: the most specific stored policy in force,
    else the built-in default for the urgency (ordinary if the urgency is unknown)."""
    candidates = [p for p in in_force(versions, at) if matches(p, subject)]
    if candidates:
        return max(candidates, key=lambda p: (specificity(p), p.code))
    fallback = {p.urgency: p for p in DEFAULT_POLICIES}
    return fallback.get(subject.urgency, fallback["ordinary"])


def _budget_hours(limit: Limit) -> float:
    """A rough size of a limit in calendar hours, to check reminders against it."""
    return {"hours": 1.0, "working_hours": 1.0, "working_days": 24.0}[limit.unit] * limit.amount


def validate(policy: Policy) -> Policy:
    """Positive limits of a known unit, within a year; reminders before the deadline; criteria
    from the known values. Raises InvalidInput naming the field."""
    if policy.urgency is not None and policy.urgency not in URGENCIES:
        raise InvalidInput(f"urgency must be one of {', '.join(URGENCIES)}", field="urgency")
    if policy.kind is not None and policy.kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", field="kind")
    if policy.unit_class is not None and policy.unit_class not in UNIT_CLASSES:
        raise InvalidInput(
            f"unit_class must be one of {', '.join(UNIT_CLASSES)}", field="unit_class"
        )
    for stage in STAGES:
        limit = policy.limit(stage)
        name = f"{stage}.amount"
        if limit.unit not in LIMIT_UNITS:
            raise InvalidInput(f"{stage}.unit must be one of {LIMIT_UNITS}", field=f"{stage}.unit")
        if not limit.amount > 0:
            raise InvalidInput(f"{name} must be positive, got {limit.amount:g}", field=name)
        if limit.amount > MAX_AMOUNT[limit.unit]:
            raise InvalidInput(
                f"{name} must be at most {MAX_AMOUNT[limit.unit]} {limit.unit}", field=name
            )
        if limit.unit == "working_days" and limit.amount != int(limit.amount):
            raise InvalidInput(f"{name} must be whole working days", field=name)
    for i, r in enumerate(policy.reminders):
        name = f"reminders.{i}"
        if (r.fraction is None) == (r.hours_before is None):
            raise InvalidInput(f"{name}: give either fraction or hours_before", field=name)
        if r.fraction is not None and not 0 < r.fraction < 1:
            raise InvalidInput(
                f"{name}.fraction must be between 0 and 1 (a reminder after the deadline "
                "reminds no one)",
                field=f"{name}.fraction",
            )
        if r.hours_before is not None:
            shortest = min(_budget_hours(policy.limit(s)) for s in STAGES)
            if not 0 < r.hours_before < shortest:
                raise InvalidInput(
                    f"{name}.hours_before must be positive and shorter than the shortest "
                    f"limit ({shortest:g} hours)",
                    field=f"{name}.hours_before",
                )
    if len({r.label for r in policy.reminders}) != len(policy.reminders):
        raise InvalidInput("reminders must not repeat", field="reminders")
    return policy


def validate_versioning(new: Policy, existing: Sequence[Policy], now: datetime) -> None:
    """A new version may not take effect before the current latest version of its code."""
    same = [p for p in existing if p.code == new.code]
    if same:
        latest = max(same, key=lambda p: p.version)
        if new.effective_from < latest.effective_from:
            raise InvalidInput(
                f"effective_from must not be before version {latest.version}'s "
                f"({latest.effective_from.isoformat()})",
                field="effective_from",
            )
