"""Rankings (排名): order units by a figure, with ties; bottom-N; 末位约谈. Pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from analytics import rates
from analytics.rates import MetricConfig, Tally

RANKABLE = ("composite_score", *rates.RATE_NAMES)
# Rates where lower is better: a unit ranks higher with fewer re-opens and returns.
LOWER_IS_BETTER = frozenset({"reopen_rate", "return_rate"})


@dataclass(frozen=True)
class Ranked:
    unit_id: str
    score: float | None  # the figure ranked on; None when the unit has no denominator
    rank: int | None  # 1 = best; equal scores share a rank (1, 2, 2, 4); None when unscored
    tally: Tally


def score_of(tally: Tally, metric: str, config: MetricConfig) -> float | None:
    """The figure a unit is ranked on: the composite score (0–100) or one rate (0–1)."""
    all_rates = rates.all_rates(tally, config)
    if metric == "composite_score":
        return rates.composite_score(all_rates, config)
    return all_rates[metric].value


def rank_units(tallies: Mapping[str, Tally], metric: str, config: MetricConfig) -> list[Ranked]:
    """Best first. Ties share the better rank and are listed by unit id (standard competition
    ranking: 1, 2, 2, 4); units without a score come last, unranked."""
    reverse = metric not in LOWER_IS_BETTER
    scored = [(u, score_of(t, metric, config), t) for u, t in tallies.items()]
    with_score = [(u, s, t) for u, s, t in scored if s is not None]
    with_score.sort(key=lambda x: ((-x[1] if reverse else x[1]), x[0]))  # type: ignore[operator]
    out: list[Ranked] = []
    previous: float | None = None
    rank = 0
    for position, (unit, score, tally) in enumerate(with_score, start=1):
        if score != previous:
            rank, previous = position, score
        out.append(Ranked(unit, score, rank, tally))
    out.extend(Ranked(u, None, None, t) for u, s, t in sorted(scored) if s is None)
    return out


def tier_of(rank: int | None, ranked_units: int, tiers: int) -> int | None:
    """分档: the tier (1 = best) of a rank when a class's ranked units are split by rank into
    `tiers` bands of equal size; tied units share their rank's tier; unranked, no tier."""
    if rank is None or ranked_units <= 0:
        return None
    return (rank - 1) * tiers // ranked_units + 1


def bottom(ranked: Sequence[Ranked], n: int) -> list[Ranked]:
    """The units whose rank is among the last n ranks (ties at the boundary included)."""
    scored = [r for r in ranked if r.rank is not None]
    if not scored or n <= 0:
        return []
    count = len(scored)
    threshold = scored[max(count - n, 0)].rank or 0
    return [r for r in scored if (r.rank or 0) >= threshold]


def flagged_for_talks(monthly_bottoms: Sequence[set[str]]) -> set[str]:
    """末位约谈: the units in the bottom list of every one of the consecutive months given."""
    if not monthly_bottoms:
        return set()
    result = set(monthly_bottoms[0])
    for month in monthly_bottoms[1:]:
        result &= month
    return result
