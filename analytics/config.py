from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ANALYTICS_", extra="ignore")

    # Versioned metric configuration; see analytics/rates.py for what each weight means.
    rates_config_version: str = "2026.1"
    partly_solved_weight: float = 0.5
    basically_satisfied_weight: float = 0.8


@lru_cache
def settings() -> AnalyticsSettings:
    return AnalyticsSettings()
