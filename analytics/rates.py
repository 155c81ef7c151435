"""The three rates (三率), each a pure function over fact rows.

Each returns a `Rate` (numerator, denominator, value); the value is None when the
denominator is zero, never a made-up 100%.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RateConfig:
    """Versioned metric configuration: every result names the version that produced it."""

    version: str = "2026.1"
    partly_solved_weight: float = 0.5  # 部分解决 counts this much of 解决
    basically_satisfied_weight: float = 0.8  # 基本满意 counts this much of 满意


@dataclass(frozen=True)
class Rate:
    numerator: float
    denominator: int

    @property
    def value(self) -> float | None:
        return round(self.numerator / self.denominator, 4) if self.denominator else None


@dataclass(frozen=True)
class LeadAssignment:
    dispatched_at: datetime
    signed_at: datetime | None
    contacted_at: datetime | None
    sign_by: datetime | None
    respond_by: datetime | None


@dataclass(frozen=True)
class Verdict:
    solved: str  # solved, partly_solved, unsolved
    satisfaction: str  # satisfied, basically_satisfied, dissatisfied


def _on_time(done: datetime | None, due: datetime | None) -> bool:
    return done is not None and due is not None and done <= due


def response_rate(assignments: Iterable[LeadAssignment]) -> Rate:
    """响应率 = lead assignments signed (签收) and first contact made (首次联系), each within its
    limit / lead assignments dispatched. Period: the dispatch time. A lead assignment whose
    deadlines are not yet known counts in the denominator only."""
    items = list(assignments)
    met = sum(
        1
        for a in items
        if _on_time(a.signed_at, a.sign_by) and _on_time(a.contacted_at, a.respond_by)
    )
    return Rate(met, len(items))


def _weighted_share(grades: Iterable[str], weights: Mapping[str, float]) -> Rate:
    """Σ weight(grade) / count: grades not in `weights` count zero."""
    items = list(grades)
    return Rate(round(sum(weights.get(g, 0.0) for g in items), 6), len(items))


def resolution_rate(verdicts: Iterable[Verdict], config: RateConfig) -> Rate:
    """解决率 = (solved + partly solved × w) / callbacks with a verdict.
    Period: the callback time."""
    weights = {"solved": 1.0, "partly_solved": config.partly_solved_weight}
    return _weighted_share((v.solved for v in verdicts), weights)


def satisfaction_rate(verdicts: Iterable[Verdict], config: RateConfig) -> Rate:
    """满意率 = (satisfied + basically satisfied × w) / callbacks with a verdict.
    Period: the callback time."""
    weights = {"satisfied": 1.0, "basically_satisfied": config.basically_satisfied_weight}
    return _weighted_share((v.satisfaction for v in verdicts), weights)
