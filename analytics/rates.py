"""The rates (三率 and the rest), each a pure function over a `Tally` of counts.

A `Tally` is what the read model adds up: every ticket and every assignment contributes counts
to the day that places it in a period (see `analytics.domain.contributions`), so a period's
tally is a plain sum and every rate below is a ratio of two of its counts. Each rate returns a
`Rate` (numerator, denominator, value); the value is None when the denominator is zero, never
a made-up 100%.

Excluded everywhere (counted only in `received` and `excluded`): tickets closed as invalid or
malicious and ticket kinds excluded by configuration (versioned, analytics.versions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType


@dataclass(frozen=True)
class MetricConfig:
    """The weights a query applies, and the label of the formula version they belong to
    (analytics.versions): every result names it."""

    version: str = ""
    partly_solved_weight: float = 0.5  # 部分解决 counts this much of 解决
    basically_satisfied_weight: float = 0.8  # 基本满意 counts this much of 满意
    composite_weights: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType(
            {"response_rate": 0.1, "resolution_rate": 0.45, "satisfaction_rate": 0.45}
        )
    )


RateConfig = MetricConfig  # the name the first slice used


@dataclass(frozen=True)
class Rate:
    numerator: float
    denominator: int

    @property
    def value(self) -> float | None:
        return round(self.numerator / self.denominator, 4) if self.denominator else None


@dataclass(frozen=True)
class Average:
    total: float
    count: int

    @property
    def value(self) -> float | None:
        return round(self.total / self.count, 2) if self.count else None


@dataclass(frozen=True)
class Tally:
    """Counts that add up across tickets, days, units and areas. The comment on each count
    says which date places it in a period."""

    # Ticket cohort: dated by the day the ticket was received (受理).
    received: int = 0  # every ticket, excluded ones too
    excluded: int = 0  # invalid/malicious or an excluded kind
    answered: int = 0  # answered on the spot at intake (直接办结)
    dispatched: int = 0  # dispatched to a lead unit at least once
    completed: int = 0  # answered on the spot, or the latest handling round replied (办结)
    completed_on_time: int = 0  # completed, and the reply was in time (or answered on the spot)
    reopened: int = 0  # dispatched tickets re-opened at least once (重办)
    handled: int = 0  # reached the callback: answered or replied once; not "not callable"
    called_back: int = 0  # handled tickets with a callback verdict
    not_callable: int = 0  # anonymous or declined callback (excluded from coverage)
    unreachable: int = 0  # every callback attempt failed (no verdict)
    handling_count: int = 0  # completed dispatched tickets with a handling time
    handling_seconds: int = 0  # their working time from first dispatch to the latest reply
    supervised: int = 0  # put under supervision (督办) at least once
    # Assignment cohort: dated by the dispatch of the assignment; the unit is its unit.
    assignments: int = 0  # every assignment dispatched, lead or assisting
    returned: int = 0  # assignments the unit returned (退单)
    leads: int = 0  # lead assignments dispatched and not returned
    leads_responded: int = 0  # … signed and first contact made, each within its limit
    # Verdicts: dated by the callback; the unit is the lead unit called back about. One
    # verdict per ticket: its latest callback round (and latest revision) counts.
    verdicts: int = 0
    solved: int = 0
    partly_solved: int = 0
    unsolved: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0
    coordinated_verdicts: int = 0  # verdicts on tickets with an assisting unit not returned
    coordinated_solved: int = 0
    coordinated_partly_solved: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in FIELDS})

    def __sub__(self, other: Tally) -> Tally:
        return Tally(**{f.name: getattr(self, f.name) - getattr(other, f.name) for f in FIELDS})

    def is_zero(self) -> bool:
        return all(not getattr(self, f.name) for f in FIELDS)

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in FIELDS}


FIELDS = fields(Tally)
COUNT_NAMES = tuple(f.name for f in FIELDS)


def total(tallies: object) -> Tally:
    result = Tally()
    for t in tallies:  # type: ignore[attr-defined]
        result = result + t
    return result


def response_rate(t: Tally) -> Rate:
    """响应率 = lead assignments signed (签收) and first contact made (首次联系), each by its
    deadline / lead assignments dispatched.
    Numerator: `leads_responded`; denominator: `leads`. Exclusions: returned assignments (退单,
    measured by the return rate), excluded tickets. A lead whose deadlines are not known yet
    counts in the denominator only. Period date: the assignment's dispatch."""
    return Rate(t.leads_responded, t.leads)


def resolution_rate(t: Tally, config: MetricConfig) -> Rate:
    """解决率 = (solved + partly solved × w) / callbacks with a verdict.
    Numerator: `solved + partly_solved × partly_solved_weight`; denominator: `verdicts`.
    Exclusions: callbacks without a verdict (unreachable, anonymous, declined), excluded
    tickets. One verdict per ticket (its latest). Period date: the callback."""
    return Rate(round(t.solved + t.partly_solved * config.partly_solved_weight, 6), t.verdicts)


def satisfaction_rate(t: Tally, config: MetricConfig) -> Rate:
    """满意率 = (satisfied + basically satisfied × w) / callbacks with a verdict.
    Numerator: `satisfied + basically_satisfied × basically_satisfied_weight`; denominator:
    `verdicts`. Exclusions and period date as for the resolution rate."""
    weighted = t.satisfied + t.basically_satisfied * config.basically_satisfied_weight
    return Rate(round(weighted, 6), t.verdicts)


def completion_rate(t: Tally) -> Rate:
    """办结率 = completed tickets / tickets received.
    Numerator: `completed` (answered on the spot, or the latest handling round replied; a
    re-opened ticket is not completed until it is replied again); denominator: `received −
    excluded`. Period date: the ticket's receipt."""
    return Rate(t.completed, t.received - t.excluded)


def on_time_completion_rate(t: Tally) -> Rate:
    """按时办结率 = tickets completed on time / tickets completed.
    Numerator: `completed_on_time` (answered on the spot, or the latest reply by the replying
    lead assignment's completion deadline); denominator: `completed`. Exclusions: excluded
    tickets. Period date: the ticket's receipt."""
    return Rate(t.completed_on_time, t.completed)


def reopen_rate(t: Tally) -> Rate:
    """重办率 = dispatched tickets re-opened at least once / tickets dispatched.
    Numerator: `reopened`; denominator: `dispatched`. Exclusions: answered on the spot (never
    dispatched), excluded tickets. Period date: the ticket's receipt."""
    return Rate(t.reopened, t.dispatched)


def return_rate(t: Tally) -> Rate:
    """退单率 = assignments returned by their unit / assignments dispatched (lead and assisting).
    Numerator: `returned`; denominator: `assignments`. Exclusions: excluded tickets. Period
    date: the assignment's dispatch."""
    return Rate(t.returned, t.assignments)


def coordination_rate(t: Tally, config: MetricConfig) -> Rate:
    """协同解决率 = (solved + partly solved × w) / verdicts, over tickets handled by a lead with
    at least one assisting unit that took part (cross-department coordination). An assisting
    unit that returned the ticket (退单) did not coordinate: a ticket whose only assisting units
    returned it is not a coordinated ticket.
    Numerator: `coordinated_solved + coordinated_partly_solved × partly_solved_weight`;
    denominator: `coordinated_verdicts`. Exclusions and period date as for the resolution
    rate."""
    weighted = t.coordinated_solved + t.coordinated_partly_solved * config.partly_solved_weight
    return Rate(round(weighted, 6), t.coordinated_verdicts)


def callback_coverage(t: Tally) -> Rate:
    """回访率 = handled tickets with a callback verdict / handled tickets.
    Numerator: `called_back`; denominator: `handled` (answered on the spot or replied at least
    once). Exclusions: not callable (anonymous, or the citizen declined), excluded tickets;
    unreachable citizens stay in the denominator. Period date: the ticket's receipt."""
    return Rate(t.called_back, t.handled)


def average_handling_days(t: Tally) -> Average:
    """平均办理时长 = Σ working days from first dispatch to the latest reply / tickets.
    Over completed dispatched tickets (answered on the spot excluded). Working days follow
    sla's calendar (holidays, make-up days 调休, overrides; analytics.calendar), counted in
    fractions of a day (summed as
    whole seconds, so totals are exact). Period date: the ticket's receipt."""
    return Average(round(t.handling_seconds / 86400, 6), t.handling_count)


RATE_NAMES = (
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "completion_rate",
    "on_time_completion_rate",
    "reopen_rate",
    "return_rate",
    "coordination_rate",
    "callback_coverage",
)


# Each formula in one line, part of every formula version (analytics.versions): changing how a
# figure is computed means changing its line here, so the change gets a version of its own.
FORMULAS = {
    "response_rate": "leads signed and contacted by their deadlines / leads not returned",
    "resolution_rate": "(solved + partly_solved*w_partly) / verdicts",
    "satisfaction_rate": "(satisfied + basically_satisfied*w_basically) / verdicts",
    "completion_rate": "completed / (received - excluded)",
    "on_time_completion_rate": "completed by the replying lead's deadline / completed",
    "reopen_rate": "dispatched tickets re-opened / dispatched tickets",
    "return_rate": "assignments returned / assignments dispatched",
    "coordination_rate": (
        "(solved + partly_solved*w_partly) / verdicts, over tickets with an assisting unit "
        "that did not return them"
    ),
    "callback_coverage": "handled tickets with a verdict / handled tickets (not callable out)",
    "average_handling_days": (
        "working days (sla's calendar) from first dispatch to latest reply / completed "
        "dispatched tickets"
    ),
    "composite_score": "100 * sum(w_i * rate_i) / sum(w_i) over rates with a denominator",
}


def all_rates(t: Tally, config: MetricConfig) -> dict[str, Rate]:
    return {
        "response_rate": response_rate(t),
        "resolution_rate": resolution_rate(t, config),
        "satisfaction_rate": satisfaction_rate(t, config),
        "completion_rate": completion_rate(t),
        "on_time_completion_rate": on_time_completion_rate(t),
        "reopen_rate": reopen_rate(t),
        "return_rate": return_rate(t),
        "coordination_rate": coordination_rate(t, config),
        "callback_coverage": callback_coverage(t),
    }


def composite_score(rates: Mapping[str, Rate], config: MetricConfig) -> float | None:
    """综合得分 = 100 × Σ wᵢ × rateᵢ / Σ wᵢ over the weighted rates that have a denominator.
    Defaults: 响应率 0.1, 解决率 0.45, 满意率 0.45. A rate with no denominator drops out and
    the others are re-weighted; with none at all there is no score."""
    present = {
        name: weight
        for name, weight in config.composite_weights.items()
        if name in rates and rates[name].value is not None
    }
    weights = sum(present.values())
    if not weights:
        return None
    score = sum(w * (rates[n].numerator / rates[n].denominator) for n, w in present.items())
    return round(100 * score / weights, 2)
