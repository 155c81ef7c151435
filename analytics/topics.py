"""Hot topics (热点诉求), spike warnings (预警) and the month's candidate for 每月一题.
Pure functions over counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    category: str
    area_code: str
    count: int  # tickets received in the period
    previous: int  # … in the previous period
    baseline: float  # mean of the `baseline_periods` periods before this one
    share: float | None  # count / all tickets in the period

    @property
    def change(self) -> float | None:
        """(count − previous) / previous; None when there was nothing before."""
        return round((self.count - self.previous) / self.previous, 4) if self.previous else None


def topics(
    current: Mapping[tuple[str, str], int],
    previous: Mapping[tuple[str, str], int],
    history: Sequence[Mapping[tuple[str, str], int]],
) -> list[Topic]:
    """Count per (category, area) this period, with the previous period and the baseline (the
    mean over `history`, the periods before this one). Largest first, then by name."""
    total = sum(current.values())
    out = [
        Topic(
            category=cat,
            area_code=area,
            count=n,
            previous=previous.get((cat, area), 0),
            baseline=round(sum(h.get((cat, area), 0) for h in history) / len(history), 4)
            if history
            else 0.0,
            share=round(n / total, 4) if total else None,
        )
        for (cat, area), n in current.items()
        if n
    ]
    out.sort(key=lambda t: (-t.count, t.category, t.area_code))
    return out


def is_spike(topic: Topic, *, ratio: float, min_count: int) -> bool:
    """预警: a topic spikes when it has at least `min_count` tickets and at least `ratio` times
    its baseline (with no baseline, reaching `min_count` is itself a spike)."""
    if topic.count < min_count:
        return False
    return topic.baseline == 0 or topic.count >= ratio * topic.baseline


@dataclass(frozen=True)
class Candidate:
    """A candidate for 每月一题: a recurring problem (category × area)."""

    category: str
    area_code: str
    repeats: int  # tickets beyond the first from the same citizen on the same topic (重复诉求)
    unsolved: int  # callback verdicts unsolved or partly solved in the month
    tickets: int

    @property
    def score(self) -> int:
        return self.repeats + self.unsolved


def monthly_problem_candidates(
    per_citizen: Mapping[tuple[str, str, str], int],
    unsolved: Mapping[tuple[str, str], int],
    tickets: Mapping[tuple[str, str], int],
) -> list[Candidate]:
    """每月一题 candidates, best first: score = repeats + unsolved verdicts, ties broken by
    tickets, then by name. `per_citizen` counts tickets by (category, area, citizen)."""
    repeats: dict[tuple[str, str], int] = {}
    for (cat, area, _citizen), n in per_citizen.items():
        repeats[(cat, area)] = repeats.get((cat, area), 0) + max(n - 1, 0)
    keys = set(repeats) | set(unsolved) | set(tickets)
    out = [
        Candidate(
            cat,
            area,
            repeats.get((cat, area), 0),
            unsolved.get((cat, area), 0),
            tickets.get((cat, area), 0),
        )
        for cat, area in keys
    ]
    out = [c for c in out if c.score > 0]
    out.sort(key=lambda c: (-c.score, -c.tickets, c.category, c.area_code))
    return out
