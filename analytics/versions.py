"""Formula versions (口径版本): analytics owns them. A version names one exact configuration —
the weights, the exclusions, the formulas and the thresholds — and never changes once written.

Identity is content: the configuration's canonical JSON (sorted keys, no spaces) is hashed
(SHA-256), and the first time a configuration is in force analytics stores it under a new
label. Labels are `<year>.<n>`, numbered by first appearance within the year (2026.1, 2026.2 …):
short enough for a report's header, and unlike a hand-set label they cannot name two
configurations — going back to an earlier configuration finds its earlier label again.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.models import ConfigVersion
from analytics.rates import FORMULAS, MetricConfig
from shared.clock import CHINA


@dataclass(frozen=True)
class Configuration:
    """Everything that decides a figure, as configured (analytics.config)."""

    partly_solved_weight: float
    basically_satisfied_weight: float
    composite_weights: Mapping[str, float]
    excluded_close_reasons: tuple[str, ...]
    excluded_kinds: tuple[str, ...]
    baseline_periods: int
    spike_ratio: float
    spike_min_count: int
    bottom_n: int
    bottom_months: int
    ranking_tiers: int

    def document(self) -> dict[str, Any]:
        return {
            "weights": {
                "partly_solved": self.partly_solved_weight,
                "basically_satisfied": self.basically_satisfied_weight,
                "composite": dict(sorted(self.composite_weights.items())),
            },
            "exclusions": {
                "close_reasons": list(self.excluded_close_reasons),
                "kinds": list(self.excluded_kinds),
            },
            "formulas": dict(FORMULAS),
            "thresholds": {
                "baseline_periods": self.baseline_periods,
                "spike_ratio": self.spike_ratio,
                "spike_min_count": self.spike_min_count,
                "bottom_n": self.bottom_n,
                "bottom_months": self.bottom_months,
                "ranking_tiers": self.ranking_tiers,
            },
        }


def canonical(config: Configuration) -> str:
    """The one text of a configuration: sorted keys, no spaces, Chinese kept as is."""
    return json.dumps(config.document(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def next_label(year: int, labels: list[str]) -> str:
    """`<year>.<n>`: one more than the year's highest number so far."""
    numbers = [int(lb.split(".", 1)[1]) for lb in labels if lb.startswith(f"{year}.")]
    return f"{year}.{max(numbers, default=0) + 1}"


def metric_config(config: Configuration, label: str) -> MetricConfig:
    return MetricConfig(
        version=label,
        partly_solved_weight=config.partly_solved_weight,
        basically_satisfied_weight=config.basically_satisfied_weight,
        composite_weights=dict(config.composite_weights),
    )


# Versions never change, so a label found is good for the life of the database (per engine,
# as shared.stamped: a test that re-creates a database gets a new engine).
_labels: weakref.WeakKeyDictionary[Engine, dict[str, str]] = weakref.WeakKeyDictionary()


async def in_force(session: AsyncSession, config: Configuration, now: datetime) -> str:
    """The label of `config`'s version, stored now if this configuration is new. Call it
    first in a request: storing a new version commits the session."""
    text = canonical(config)
    key = digest(text)
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    known = _labels.setdefault(engine, {})
    if key in known:
        return known[key]
    for _ in range(3):  # another replica may store a version at the same moment
        label = await session.scalar(select(ConfigVersion.label).where(ConfigVersion.digest == key))
        if label is None:
            year = now.astimezone(CHINA).year
            labels = list(
                await session.scalars(
                    select(ConfigVersion.label).where(ConfigVersion.label.like(f"{year}.%"))
                )
            )
            label = next_label(year, labels)
            session.add(ConfigVersion(label=label, digest=key, config=text, created_at=now))
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                continue
        known[key] = label
        return label
    raise RuntimeError("could not store the formula version")  # pragma: no cover


async def listing(session: AsyncSession) -> list[ConfigVersion]:
    rows = await session.scalars(select(ConfigVersion).order_by(ConfigVersion.id))
    return list(rows)
