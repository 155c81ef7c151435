"""analytics' settings (env prefix `ANALYTICS_`).

The metric configuration is versioned by its content (analytics.versions): a configuration
never seen before becomes a new formula version on first use, and every figure the API returns
names the version that produced it. Weights and coefficients apply when a query runs;
exclusions apply when events are folded into facts, so changing them needs
`python -m services analytics rebuild`.

The directory (units, areas) and the calendar are not configuration: analytics learns them
from routing's and sla's events.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ANALYTICS_", extra="ignore")

    # Versioned metric configuration (analytics.versions); analytics/rates.py says what each
    # value means.
    partly_solved_weight: float = 0.5  # 部分解决 counts this much of 解决
    basically_satisfied_weight: float = 0.8  # 基本满意 counts this much of 满意
    # Composite score (综合得分) = Σ weight × rate × 100 over the rates that have a denominator.
    composite_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "response_rate": 0.1,
            "resolution_rate": 0.45,
            "satisfaction_rate": 0.45,
        }
    )
    # A ticket closed with a reason containing one of these is excluded from every rate
    # (invalid or malicious requests, 无效/恶意诉求). It still counts as received.
    excluded_close_reasons: tuple[str, ...] = ("invalid", "malicious", "无效", "恶意")
    # Ticket kinds excluded from every rate (none by default; e.g. "praise").
    excluded_kinds: tuple[str, ...] = ()

    # Hot topics and spike warnings (预警).
    baseline_periods: int = 4  # the baseline is the mean of this many previous periods
    spike_ratio: float = 2.0  # a topic spikes at ≥ ratio × baseline …
    spike_min_count: int = 5  # … and at least this many tickets
    # 末位约谈: units in the bottom N of their class this many months running are flagged.
    bottom_n: int = 3
    bottom_months: int = 3
    # 分档: each class's ranked units fall into this many equal tiers by rank (1 = best), the
    # tiered, class-based evaluation the 2025 national guidance asks for.
    ranking_tiers: int = Field(default=4, ge=1, le=10)


@lru_cache
def settings() -> AnalyticsSettings:
    return AnalyticsSettings()
