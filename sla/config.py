from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class SlaSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SLA_", extra="ignore")

    timer_tick_seconds: float = 5.0
    timer_batch_size: int = 500


@lru_cache
def settings() -> SlaSettings:
    return SlaSettings()
